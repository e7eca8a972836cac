# The webhook image: gunicorn serving webhook:app as a non-root user.
# Rasa runs from the official rasa/rasa image (see docker-compose.yml).
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY bot ./bot
COPY responses ./responses
COPY locales ./locales
COPY webhook.py .
RUN useradd --system --uid 10001 kyr
USER kyr
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=4).status == 200 else 1)"
CMD ["gunicorn", "webhook:app", "--bind", "0.0.0.0:5000", "--workers", "2", "--threads", "8", "--timeout", "30", "--preload"]
