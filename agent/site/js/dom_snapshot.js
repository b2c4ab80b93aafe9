// Runs inside a page: the DOM as plain data for the selector-map learner (agent/site/learn),
// open shadow roots and <template> contents included. Each element: [tag, attrs, text,
// children, shadowChildren, templateText], where text is the element's own text nodes
// (in order, between its children as "\u0000" marks so the learner can rebuild textContent)
// Argument: null for the page as it is, or the HTML of a saved page, parsed (scripts never
// run) and walked instead. Answer: one JSON string (the driver's encoding of a tree is slow).
(html) => {
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "LINK", "META", "SVG", "PATH"]);
  const walk = (el) => {
    const attrs = {};
    for (const a of el.attributes) attrs[a.name] = a.value;
    const parts = [];
    const kids = [];
    for (const node of el.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) parts.push(node.nodeValue);
      else if (node.nodeType === Node.ELEMENT_NODE) {
        if (SKIP.has(node.tagName.toUpperCase())) continue;
        parts.push("\u0000");
        kids.push(walk(node));
      }
    }
    const shadow = el.shadowRoot ? [...el.shadowRoot.children].filter((c) => !SKIP.has(c.tagName.toUpperCase())).map(walk) : [];
    const template = el.tagName === "TEMPLATE" ? el.content.textContent : null;
    return [el.tagName.toLowerCase(), attrs, parts.join(""), kids, shadow, template];
  };
  const doc = html === null ? document : new DOMParser().parseFromString(html, "text/html");
  return JSON.stringify({ url: location.href, root: walk(doc.documentElement) });
}
