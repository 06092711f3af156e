#!/bin/sh
# Runs in the setup stage: writes the runtime configuration.
set -e
mkdir -p /etc/app
echo "env=${APP_ENV:-development}" > /etc/app/app.conf
echo "deps=$(wc -l < /var/lib/app/installed-deps)" >> /etc/app/app.conf
