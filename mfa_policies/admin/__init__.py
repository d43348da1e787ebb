"""The admin console: ModelAdmins (:mod:`.model_admins`), forms (:mod:`.forms`), the site
(:mod:`.site`, ``admin.site`` through ``config.apps.MfagateAdminConfig``) and the policy tester
(:mod:`.policy_tester`).

This ``__init__`` stays empty on purpose: the admin site class lives in this package, and
importing it must not register ModelAdmins while ``admin.site`` is still being created (the
registrations would land on a throw-away site). :class:`mfa_policies.apps.MfaPoliciesConfig`
imports :mod:`.model_admins` once the site exists.
"""
