# A test fixture, not what users get: a stand-in for the official rabbitmq image, built from Debian's
# RabbitMQ for a machine that cannot reach a registry (`./infra/dev test compose`). It honours the
# part of the official image's interface that compose.yaml relies on: conf.d, docker-entrypoint.sh,
# the data folder, and the node named after the host.
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /etc/rabbitmq/conf.d \
    && chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq
COPY rabbitmq-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV RABBITMQ_CONFIG_FILES=/etc/rabbitmq/conf.d RABBITMQ_LOGS=-
EXPOSE 5672
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["rabbitmq-server"]
