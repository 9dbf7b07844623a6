# Sahay's app image (CPython 3.11): the gateway, and the action server from the same image.
# Built from the repository root:  docker build -f deploy/app.Dockerfile -t sahay-app .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    SAHAY_ENV=production

# espeak-ng records the Odia and Assamese phone prompts (Twilio has no voice for them).
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv

WORKDIR /srv/sahay
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY bot bot
COPY actions actions
COPY ivr ivr
COPY knowledge knowledge
COPY domain domain
COPY scripts scripts
RUN uv sync --frozen --no-dev \
 && python -m ivr.prompts build

# No root at run time; the spool folder (messages kept while the database is down) is a
# volume, so that a restarted container replays what it kept.
RUN useradd --uid 10001 --create-home sahay && mkdir -p /srv/sahay/var/spool \
 && chown -R sahay /srv/sahay/var
USER sahay
VOLUME ["/srv/sahay/var/spool"]
EXPOSE 8000 5055

HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import httpx,sys; sys.exit(httpx.get('http://127.0.0.1:8000/healthz').status_code != 200)"
CMD ["uvicorn", "bot.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--proxy-headers", "--forwarded-allow-ips", "*"]
