# Sahay's Rasa image (CPython 3.10, Rasa Open Source 3.6.21) with the trained model inside.
# Built from the repository root:  docker build -f deploy/engine.Dockerfile -t sahay-engine .

# 1. Assemble the domain (replies of every language merged per response).
FROM python:3.11-slim AS domain
RUN pip install --no-cache-dir pyyaml
WORKDIR /src
COPY scripts scripts
COPY domain domain
RUN python scripts/build_domain.py --src domain --out build/domain

# 2. The engine: pinned requirements (with hashes), the custom NLU components, the model.
FROM python:3.10-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/srv/sahay
WORKDIR /srv/sahay
COPY requirements/engine.txt requirements/engine.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/engine.txt
# Rasa imports bot.nlu (the normaliser and classifier) and bot.language: stdlib, numpy,
# scikit-learn and indic-transliteration only.
COPY bot/__init__.py bot/__init__.py
COPY bot/nlu bot/nlu
COPY bot/engine bot/engine
COPY bot/language bot/language
COPY config.yml endpoints.yml credentials.yml ./
COPY data data
COPY --from=domain /src/build/domain build/domain
RUN python -m rasa train --config config.yml --domain build/domain --data data \
      --out models --fixed-model-name sahay --quiet

RUN useradd --uid 10001 --create-home rasa && chown -R rasa /srv/sahay
USER rasa
EXPOSE 5005
# endpoints.yml reads TRACKER_*, LOCK_STORE_* and ACTION_SERVER_URL (see compose.yaml).
CMD ["sh", "-c", "exec python -m rasa run --enable-api --auth-token=\"$RASA_TOKEN\" --model models/sahay.tar.gz --endpoints endpoints.yml --credentials credentials.yml --port 5005"]
