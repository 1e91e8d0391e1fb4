#!/usr/bin/env bash
# Installs what building and testing rpcbench needs on a fresh Debian
# machine: Go modules, and the Debian packages the tests use.
set -euo pipefail
need=()
command -v curl >/dev/null || need+=(curl)
command -v chromium >/dev/null || need+=(chromium)
command -v etcd >/dev/null || need+=(etcd-server)
# RabbitMQ: the amqp transport's tests and benchmark cells start a node.
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || command -v rabbitmq-server >/dev/null || need+=(rabbitmq-server)
# ip and tc: the two-host test's network namespaces, veth pair and tbf.
command -v ip >/dev/null && command -v tc >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: please install: ${need[*]}" >&2
  fi
fi
go mod download
