"""``docrelay check URL``: Workfront's manual test plan, played against a deployment.

The steps run in the order of that plan (``docrelay.check.plan``), over HTTP only, as
Workfront's servers and a user's browser would call them; each passes, fails with a
one-line reason, or is skipped when a step it needs did not pass. Nothing here imports
the server: the check runs from any machine that reaches the URL.
"""
