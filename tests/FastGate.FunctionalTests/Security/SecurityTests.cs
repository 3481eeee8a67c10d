using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FastGate.FunctionalTests.Security;

/// <summary>
/// Authentication, authorization, claims to headers, rate limits and IP filters at the gate, against
/// the real gateway and a real backend, with tokens minted by Microsoft.IdentityModel.
/// </summary>
public sealed class SecurityTests
{
    private const string SecretVariable = "FASTGATE_FUNCTIONAL_JWT_SECRET";
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("functional-tests-secret-that-is-long-enough-for-hs256!");

    static SecurityTests() => Environment.SetEnvironmentVariable(SecretVariable, Encoding.UTF8.GetString(Secret));

    private static string Token(string subject = "user-7", string scope = "users:read", DateTime? expires = null, string issuer = "https://issuer.test", byte[]? key = null, string[]? roles = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject, ["scope"] = scope };
        if (roles is not null)
        {
            claims["roles"] = roles;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = "fastgate",
            Claims = claims,
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            NotBefore = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            IssuedAt = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? Secret), SecurityAlgorithms.HmacSha256),
        });
    }

    private static Task<TestGateway> StartAsync(TestBackend backend, string routeExtras = "", string sections = "") =>
        TestGateway.StartAsync($$"""
            [upstreams.users]
            endpoints = ["{{backend.Address}}"]

            [auth.default]
            type = "jwt"
            issuer = "https://issuer.test"
            audiences = ["fastgate"]
            algorithms = ["HS256"]
            secret_env = "{{SecretVariable}}"
            clock_skew = "5s"
            forward_claims = { sub = "X-User-Id" }

            {{sections}}

            [[routes]]
            name = "users"
            match = { path = "/api/users/{id}" }
            upstream = "users"
            auth = "default"
            require = { scopes = ["users:read"] }
            {{routeExtras}}
            """);

    private static RawResponse Get(TestGateway gateway, string path, string? token = null, string extra = "")
    {
        using var connection = gateway.Connect();
        connection.Send($"GET {path} HTTP/1.1\r\nHost: api.test\r\n{(token is null ? "" : $"Authorization: Bearer {token}\r\n")}{extra}\r\n");
        return connection.ReadResponse();
    }

    [Fact]
    public async Task Missing_token_is_401_without_error_and_nothing_reaches_the_upstream()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);

        var response = Get(gateway, "/api/users/1");

        Assert.Equal(401, response.Status);
        Assert.Equal("Bearer", response.Header("WWW-Authenticate"));
        Assert.Equal("application/problem+json", response.Header("Content-Type"));
        Assert.Contains("\"status\":401", response.BodyText, StringComparison.Ordinal);
        Assert.Equal(0, backend.Requests);
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("wrong-issuer")]
    [InlineData("wrong-key")]
    [InlineData("garbage")]
    [InlineData("alg-none")]
    public async Task Invalid_tokens_are_401_invalid_token_and_never_forwarded(string kind)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        var token = kind switch
        {
            "expired" => Token(expires: DateTime.UtcNow.AddMinutes(-5)),
            "wrong-issuer" => Token(issuer: "https://evil.test"),
            "wrong-key" => Token(key: Encoding.UTF8.GetBytes("another-secret-another-secret-another-secret-!!")),
            "alg-none" => Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + Base64Url("{\"sub\":\"x\",\"iss\":\"https://issuer.test\",\"aud\":\"fastgate\",\"exp\":4102444800,\"scope\":\"users:read\"}") + ".",
            _ => "not.a.token",
        };

        var response = Get(gateway, "/api/users/1", token);

        Assert.Equal(401, response.Status);
        Assert.Equal("Bearer error=\"invalid_token\"", response.Header("WWW-Authenticate"));
        // The reason is not echoed to the client.
        Assert.DoesNotContain("expire", response.BodyText, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task Valid_token_is_forwarded_with_its_claim_as_header_and_a_forged_header_is_stripped()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);

        var response = Get(gateway, "/api/users/1", Token(subject: "alice"), "X-User-Id: mallory\r\n");

        Assert.Equal(200, response.Status);
        var seen = Assert.Single(backend.Seen);
        Assert.Equal("alice", seen.Headers["X-User-Id"]);
        Assert.StartsWith("Bearer ", seen.Headers["Authorization"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_scope_is_403_insufficient_scope()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);

        var response = Get(gateway, "/api/users/1", Token(scope: "orders:read"));

        Assert.Equal(403, response.Status);
        Assert.Equal("Bearer error=\"insufficient_scope\"", response.Header("WWW-Authenticate"));
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task Rate_limit_answers_429_with_retry_after_and_ratelimit_fields_after_the_burst()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend, "rate_limit = \"per_user\"", """
            [rate_limits.per_user]
            rate = 2
            per = "1m"
            burst = 3
            key = "claim:sub"
            """);
        var token = Token(subject: "bob");

        var statuses = Enumerable.Range(0, 4).Select(_ => Get(gateway, "/api/users/1", token)).ToList();
        var other = Get(gateway, "/api/users/1", Token(subject: "carol"));

        Assert.Equal([200, 200, 200, 429], statuses.Select(r => r.Status));
        var limited = statuses[3];
        Assert.True(int.Parse(limited.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Contains("\"per_user\"", limited.Header("RateLimit-Policy"), StringComparison.Ordinal);
        Assert.Contains("\"per_user\"", limited.Header("RateLimit"), StringComparison.Ordinal);
        Assert.Equal(200, other.Status);
        Assert.Equal(4, backend.Requests);
    }

    [Fact]
    public async Task Ip_filter_refuses_addresses_outside_the_allow_list_before_authentication()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend, "ip_filter = \"office\"", """
            [ip_filters.office]
            allow = ["10.0.0.0/8"]
            """);

        var response = Get(gateway, "/api/users/1", Token());

        Assert.Equal(403, response.Status);
        Assert.Contains("address-forbidden", response.BodyText, StringComparison.Ordinal);
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task Rs256_tokens_validate_against_a_jwks_file()
    {
        await using var backend = await TestBackend.StartAsync();
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(false);
        var jwks = Path.Combine(Path.GetTempPath(), $"fastgate-jwks-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(jwks, $$"""{"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","use":"sig","n":"{{Base64Url(parameters.Modulus!)}}","e":"{{Base64Url(parameters.Exponent!)}}"}]}""");
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.users]
            endpoints = ["{{backend.Address}}"]

            [auth.rsa]
            type = "jwt"
            issuer = "https://issuer.test"
            audiences = ["fastgate"]
            algorithms = ["RS256"]
            jwks_file = "{{jwks}}"

            [[routes]]
            name = "users"
            match = { path = "/api/users/{id}" }
            upstream = "users"
            auth = "rsa"
            """);
        var signed = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://issuer.test",
            Audience = "fastgate",
            Claims = new Dictionary<string, object> { ["sub"] = "dave" },
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256),
        });
        // An HS256 token "signed" with the public key's bytes must not pass (algorithm confusion).
        var confused = Token(key: Encoding.UTF8.GetBytes(File.ReadAllText(jwks)));

        Assert.Equal(200, Get(gateway, "/api/users/1", signed).Status);
        Assert.Equal(401, Get(gateway, "/api/users/1", confused).Status);
        Assert.Equal(1, backend.Requests);
    }

    private static string Base64Url(string json) => Base64Url(Encoding.UTF8.GetBytes(json));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
