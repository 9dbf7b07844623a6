"""The counsellors' console (HTML at /console) and its JSON API (/api).

Server-rendered Jinja templates with htmx and template fragments; live updates by
server-sent events. See `views` for the pages, `api` for the JSON routes, `service` for
the actions both share, and `security` for sign-in, sessions and CSRF.
"""
