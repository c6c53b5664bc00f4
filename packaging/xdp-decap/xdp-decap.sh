#!/bin/sh
# /usr/bin/xdp-decap: runs the CLI on the Node.js runtime shipped in /usr/lib/xdp-decap, whatever node the host has.
exec /usr/lib/xdp-decap/node/bin/node /usr/lib/xdp-decap/dist/src/cli.js "$@"
