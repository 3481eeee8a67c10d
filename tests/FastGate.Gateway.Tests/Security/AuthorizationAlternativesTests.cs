using System.Text;
using FastGate.Gateway.Security;

namespace FastGate.Gateway.Tests.Security;

public sealed class AuthorizationAlternativesTests
{
    private static bool Satisfied(string payload, params (string Name, string Value)[] claims)
    {
        var requirement = new AuthorizationRequirement([], [], [.. claims.Select(c => new KeyValuePair<string, string>(c.Name, c.Value))]);
        return requirement.IsSatisfied(new JwtClaims(Encoding.UTF8.GetBytes(payload), long.MaxValue));
    }

    [Theory]
    [InlineData("""{"tier":"gold"}""", true)]
    [InlineData("""{"tier":"silver"}""", true)]
    [InlineData("""{"tier":"bronze"}""", false)]
    [InlineData("""{"other":"gold"}""", false)]
    public void Values_listed_for_one_claim_are_alternatives(string payload, bool expected) =>
        Assert.Equal(expected, Satisfied(payload, ("tier", "gold"), ("tier", "silver")));

    [Theory]
    [InlineData("""{"tier":"gold","region":"eu"}""", true)]
    [InlineData("""{"tier":"gold","region":"us"}""", false)]
    public void Different_claims_are_all_required(string payload, bool expected) =>
        Assert.Equal(expected, Satisfied(payload, ("tier", "gold"), ("region", "eu")));
}
