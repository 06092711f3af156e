#!/bin/sh
while true; do greet worker; sleep 60; done
