using System.Text;
using FastGate.Gateway.Security;
using static FastGate.Gateway.Tests.Security.JwtTestKeys;

namespace FastGate.Gateway.Tests.Security;

public class AuthorizationRequirementTests
{
    [Theory]
    // Scopes: all required, from a space-separated "scope" or an "scp" array or string, or both together.
    [InlineData("\"scope\":\"users:read users:write\"", "users:read", "", "", true)]
    [InlineData("\"scope\":\"users:read users:write\"", "users:read users:write", "", "", true)]
    [InlineData("\"scope\":\"users:read\"", "users:read users:write", "", "", false)]
    [InlineData("\"scope\":\"users:readx users:rea\"", "users:read", "", "", false)]
    [InlineData("\"scope\":\" users:read  \"", "users:read", "", "", true)]
    [InlineData("\"scope\":\"users\\u003aread\"", "users:read", "", "", true)]
    [InlineData("\"scp\":[\"users:read\",\"users:write\"]", "users:read users:write", "", "", true)]
    [InlineData("\"scp\":[\"users:read\"]", "users:write", "", "", false)]
    [InlineData("\"scp\":\"users:read users:write\"", "users:write", "", "", true)]
    [InlineData("\"scope\":\"users:read\",\"scp\":[\"users:write\"]", "users:read users:write", "", "", true)]
    [InlineData("\"scope\":[\"users:read\"]", "users:read", "", "", true)]
    [InlineData("\"scope\":42", "users:read", "", "", false)]
    [InlineData("", "users:read", "", "", false)]
    // Roles: any one.
    [InlineData("\"roles\":[\"reader\",\"admin\"]", "", "admin auditor", "", true)]
    [InlineData("\"roles\":[\"reader\"]", "", "admin auditor", "", false)]
    [InlineData("\"roles\":\"admin\"", "", "admin", "", true)]
    [InlineData("\"roles\":\"admin auditor\"", "", "admin", "", false)]
    [InlineData("", "", "admin", "", false)]
    // Claims: exact values, or membership in an array claim.
    [InlineData("\"tenant\":\"acme\"", "", "", "tenant=acme", true)]
    [InlineData("\"tenant\":\"acme-corp\"", "", "", "tenant=acme", false)]
    [InlineData("\"tenant\":\"ACME\"", "", "", "tenant=acme", false)]
    [InlineData("\"groups\":[\"a\",\"acme\"]", "", "", "groups=acme", true)]
    [InlineData("\"level\":3", "", "", "level=3", true)]
    [InlineData("\"admin\":true", "", "", "admin=true", true)]
    [InlineData("\"admin\":\"true\"", "", "", "admin=true", true)]
    [InlineData("\"tenant\":\"acme\"", "", "", "tenant=acme sub=user-42", true)]
    [InlineData("\"tenant\":\"acme\"", "", "", "tenant=acme sub=other", false)]
    [InlineData("\"tenant\":{\"id\":\"acme\"}", "", "", "tenant=acme", false)]
    // Everything at once, and nothing required.
    [InlineData("\"scope\":\"a b\",\"roles\":[\"r\"],\"tenant\":\"t\"", "a b", "x r", "tenant=t", true)]
    [InlineData("\"scope\":\"a\",\"roles\":[\"r\"],\"tenant\":\"t\"", "a b", "x r", "tenant=t", false)]
    [InlineData("", "", "", "", true)]
    public void Requirement_checks_scopes_roles_and_claims(string claimsJson, string scopes, string roles, string claims, bool expected)
    {
        var requirement = new AuthorizationRequirement(
            Split(scopes),
            Split(roles),
            [.. Split(claims).Select(c => new KeyValuePair<string, string>(c[..c.IndexOf('=', StringComparison.Ordinal)], c[(c.IndexOf('=', StringComparison.Ordinal) + 1)..]))]);
        var validator = new JwtValidator(Policy(), KeySet, cacheCapacity: 0);
        string extra = claimsJson.Length == 0 ? "" : "," + claimsJson;
        byte[] token = Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.HS256), Payload(extra: extra), JwtAlgorithms.HS256));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, Now, out JwtClaims tokenClaims));

        Assert.Equal(expected, requirement.IsSatisfied(tokenClaims));
    }

    private static string[] Split(string words) => words.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
