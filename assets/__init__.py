"""Run-time assets: icons, the desktop file, the sample CGI site."""
