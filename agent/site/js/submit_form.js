// Send one of the page's own forms with fetch() (never as a navigation) and read the answer.
//
// The form's own fields go as the page would send them (FormData: the hidden case ID and the
// anti-CSRF token included, files from its file input), to its own action, which must be on
// the page's origin. A navigation's POST may be sent a second time by Chromium when its
// connection closes unanswered; a fetch() is not. The answer (the page an accepted action
// redirects to, or the page again with the refusal) is parsed here: the confirmation's text,
// or the refusal's code and text. No answer at all is {status: 0}.
async ([formSelector, noticeSelector, errorSelector, codeAttr, timeoutMs]) => {
  const form = document.querySelector(formSelector);
  if (!form) return { missing: true };
  const target = new URL(form.getAttribute("action") || location.href, location.href);
  if (target.origin !== location.origin) return { foreign: target.origin };
  const body = new FormData(form);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res;
  let html;
  try {
    res = await fetch(target.href, {
      method: "POST",
      body,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "follow",
      signal: abort.signal,
    });
    html = await res.text();
  } catch (e) {
    return { status: 0, problem: String(e) };
  } finally {
    clearTimeout(timer);
  }
  const doc = new DOMParser().parseFromString(html, "text/html");
  const ok = doc.querySelector(noticeSelector);
  const bad = doc.querySelector(errorSelector);
  return {
    status: res.status,
    url: res.url,
    notice: ok ? ok.textContent.trim() : null,
    code: bad ? bad.getAttribute(codeAttr) || "" : null,
    text: bad ? bad.textContent.trim() : null,
  };
}
