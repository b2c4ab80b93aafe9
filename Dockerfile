# The image of compose.yaml's scheduler and workers (README, "Many accounts"): caselog with
# Debian's Chromium, run as an unprivileged user whose home is the shared volume.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY agent agent
COPY fixtures fixtures
COPY selectors selectors
RUN pip install --no-cache-dir . && rm -rf /src

RUN useradd --create-home --uid 10001 caselog \
 && install -d -m 0700 -o caselog -g caselog /caselog
USER caselog
WORKDIR /caselog
ENV CASELOG_HOME=/caselog \
    CASELOG_CHROMIUM=/usr/bin/chromium \
    PYTHONUNBUFFERED=1

# tini reaps Chromium's helpers and passes SIGTERM on: a worker ends its round, then stops
ENTRYPOINT ["tini", "--", "caselog"]
CMD ["--help"]
