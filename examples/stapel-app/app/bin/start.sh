#!/bin/sh
echo "stapel-app starting with $(cat /etc/app/app.conf | tr '\n' ' ')"
exec httpd -f -p 8080 -h /app/public
