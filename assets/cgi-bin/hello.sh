#!/bin/sh
# The hello-world script as a shell script: any executable with a #! line is a CGI script.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'Hello World from %s!\n' "${SERVER_SOFTWARE:-a CGI server}"
