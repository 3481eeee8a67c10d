using System.Text;

namespace FastGate.Gateway.Security;

/// <summary>A route's <c>require</c>: every scope, any one of the roles, every exact claim value.</summary>
/// <remarks>Empty parts are satisfied. Names and values are UTF-8 once here, so a check allocates nothing.</remarks>
internal sealed class AuthorizationRequirement
{
    private readonly byte[][] _scopes;
    private readonly byte[][] _roles;
    private readonly (byte[] Name, byte[] Value)[] _claims;

    public AuthorizationRequirement(
        IReadOnlyList<string> scopes, IReadOnlyList<string> roles, IReadOnlyList<KeyValuePair<string, string>> claims)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(claims);
        _scopes = [.. scopes.Select(Encoding.UTF8.GetBytes)];
        _roles = [.. roles.Select(Encoding.UTF8.GetBytes)];
        _claims = [.. claims.Select(c => (Encoding.UTF8.GetBytes(c.Key), Encoding.UTF8.GetBytes(c.Value)))];
    }

    public static AuthorizationRequirement None { get; } = new([], [], []);

    public bool IsEmpty => _scopes.Length == 0 && _roles.Length == 0 && _claims.Length == 0;

    public bool IsSatisfied(in JwtClaims claims)
    {
        // Scopes: a space-separated "scope" string (RFC 8693 section 4.2, RFC 9068 section 2.2.3) or an "scp"
        // array (or string, as some issuers send it); each required scope may come from either.
        if (_scopes.Length > 0)
        {
            bool hasScope = claims.TryGetClaim("scope"u8, out JsonValueSpan scope);
            bool hasScp = claims.TryGetClaim("scp"u8, out JsonValueSpan scp);
            foreach (byte[] required in _scopes)
            {
                if (!(hasScope && scope.ContainsWord(required)) && !(hasScp && scp.ContainsWord(required)))
                {
                    return false;
                }
            }
        }

        // Roles: any one of them, from a "roles" array or string (RFC 9068 section 7.2.1.1).
        if (_roles.Length > 0)
        {
            if (!claims.TryGetClaim("roles"u8, out JsonValueSpan roles))
            {
                return false;
            }

            bool any = false;
            foreach (byte[] role in _roles)
            {
                if (roles.Contains(role))
                {
                    any = true;
                    break;
                }
            }

            if (!any)
            {
                return false;
            }
        }

        // Claims: the exact value, or an array claim holding it. Pairs that repeat a name one after
        // another are alternatives (`claims = { tier = ["gold", "silver"] }`): any one of them will do.
        for (int i = 0; i < _claims.Length;)
        {
            byte[] name = _claims[i].Name;
            int end = i + 1;
            while (end < _claims.Length && _claims[end].Name.AsSpan().SequenceEqual(name))
            {
                end++;
            }

            bool any = false;
            if (claims.TryGetClaim(name, out JsonValueSpan claim))
            {
                for (int j = i; j < end && !any; j++)
                {
                    any = claim.Contains(_claims[j].Value);
                }
            }

            if (!any)
            {
                return false;
            }

            i = end;
        }

        return true;
    }
}
