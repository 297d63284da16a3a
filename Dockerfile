# The Excel add-in backend (`planvalidator serve`) in a container: docs/addin.md, "Deploy it".
#   docker build -t planvalidator-addin .
#   docker compose up -d          (compose.yaml: the volumes, the licence variable, the port)
# The licence: XLWINGS_LICENSE_KEY must be set when the container runs, to "noncommercial"
# (PolyForm Noncommercial 1.0.0: use by a government institution is a permitted purpose) or to a
# commercial xlwings key. It is not set here; `serve` refuses to start without it.
ARG PYTHON_IMAGE=python:3.11-slim

# Stage 1: the wheel, built from the same files as tests/test_wheel.py builds it from.
FROM ${PYTHON_IMAGE} AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY planvalidator/ planvalidator/
COPY schemas/ schemas/
COPY templates/ templates/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: the wheel with the `addin` extra; xlwings pinned by deploy/constraints.txt, since the
# VBA route's xlwings.xlam on agency PCs must be the same version.
FROM ${PYTHON_IMAGE}
COPY deploy/constraints.txt /tmp/constraints.txt
COPY --from=wheel /wheels/ /tmp/wheels/
RUN pip install --no-cache-dir --constraint /tmp/constraints.txt \
        "$(ls /tmp/wheels/planvalidator-*.whl)[addin]" \
    && rm -rf /tmp/wheels /tmp/constraints.txt \
    && useradd --system --user-group --uid 10001 --home-dir /srv/planvalidator --no-create-home \
        planvalidator \
    && install -d -o planvalidator -g planvalidator -m 0750 /srv/planvalidator/submissions \
    && install -d -m 0755 /etc/planvalidator
ENV PYTHONUNBUFFERED=1 \
    PLANVALIDATOR_HEALTH_URL=http://127.0.0.1:8000/health
# The store (submissions, append-only: back it up) and the config (addin.yaml, read-only).
VOLUME ["/srv/planvalidator", "/etc/planvalidator"]
USER planvalidator
WORKDIR /srv/planvalidator
EXPOSE 8000
# GET /health answers 503 when the store can't be written. With tls: in the config, set
# PLANVALIDATOR_HEALTH_URL=https://127.0.0.1:8000/health (the certificate names the public host,
# not 127.0.0.1, hence no verification of this local call).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, ssl, urllib.request; urllib.request.urlopen(os.environ['PLANVALIDATOR_HEALTH_URL'], timeout=8, context=ssl._create_unverified_context())"]
CMD ["planvalidator", "serve", "--config", "/etc/planvalidator/addin.yaml", \
     "--store", "/srv/planvalidator/submissions", "--host", "0.0.0.0", "--port", "8000"]
