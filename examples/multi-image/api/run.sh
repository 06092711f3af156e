#!/bin/sh
greet api
exec httpd -f -p 8080 -h /srv/api
