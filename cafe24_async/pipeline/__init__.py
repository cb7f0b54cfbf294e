"""One request, stage by stage, in the order it travels.

    build      check and render params (path, query, body); nothing sent on error
    pace       a permit from the mall's pacer: bucket, per-second rule, usage quota
    authorise  bearer token (single-flight refresh), client id, or partner Basic
    transport  the shared aiohttp pool (`cafe24_async.transport`, below the services)
    observe    the permit takes in X-Api-Call-Limit and the usage headers
    decode     root key and shape per route; a value or a library error
    retry      a `RetryPolicy` turns an error into a delay, a refresh or a give-up
    executor   the short loop that runs the stages above
"""
