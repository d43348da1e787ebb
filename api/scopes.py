"""API token scopes, mirroring the seed's permission names (seed 002, spec §6).

| scope                   | seed permission                                                  |
|-------------------------|------------------------------------------------------------------|
| organizations:read      | Access: Organizations, Identity Providers, and Groups Read       |
| organizations:write     | Access: Organizations, Identity Providers, and Groups Write      |
| organizations:revoke    | Access: Organizations, Identity Providers, and Groups Revoke     |
| apps_policies:read      | Access: Apps and Policies Read                                   |
| apps_policies:write     | Access: Apps and Policies Write                                  |
| users:read              | Access: Users Read                                               |
| users:revoke            | Access: Users Revoke                                             |

As in the seed, reading an organization is allowed by any of its three scopes, and a write scope
also reads. AAGUID lists are part of the organization's MFA configuration (its
``required_aaguids``), so they use the organizations scopes.
"""

ORGANIZATIONS_READ = "organizations:read"
ORGANIZATIONS_WRITE = "organizations:write"
ORGANIZATIONS_REVOKE = "organizations:revoke"
APPS_POLICIES_READ = "apps_policies:read"
APPS_POLICIES_WRITE = "apps_policies:write"
USERS_READ = "users:read"
USERS_REVOKE = "users:revoke"

SCOPE_CHOICES = [
    (ORGANIZATIONS_READ, "Access: Organizations, Identity Providers, and Groups Read"),
    (ORGANIZATIONS_WRITE, "Access: Organizations, Identity Providers, and Groups Write"),
    (ORGANIZATIONS_REVOKE, "Access: Organizations, Identity Providers, and Groups Revoke"),
    (APPS_POLICIES_READ, "Access: Apps and Policies Read"),
    (APPS_POLICIES_WRITE, "Access: Apps and Policies Write"),
    (USERS_READ, "Access: Users Read"),
    (USERS_REVOKE, "Access: Users Revoke"),
]
SCOPES = tuple(key for key, _ in SCOPE_CHOICES)

# "At least one of" sets, per operation.
READ_ORGANIZATIONS = (ORGANIZATIONS_READ, ORGANIZATIONS_WRITE, ORGANIZATIONS_REVOKE)
WRITE_ORGANIZATIONS = (ORGANIZATIONS_WRITE,)
READ_APPS_POLICIES = (APPS_POLICIES_READ, APPS_POLICIES_WRITE)
WRITE_APPS_POLICIES = (APPS_POLICIES_WRITE,)
READ_USERS = (USERS_READ, USERS_REVOKE)
REVOKE_USERS = (USERS_REVOKE,)
