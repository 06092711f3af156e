#!/bin/sh
test -f /etc/runtime.conf
