#!/bin/sh
test -s /www/index.html
