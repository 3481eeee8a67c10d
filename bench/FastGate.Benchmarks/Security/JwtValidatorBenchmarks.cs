using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FastGate.Benchmarks.Security;

/// <summary>
/// One realistic access token (iss, aud, sub, scope, roles, exp/nbf/iat, ~700 bytes) per algorithm, validated by
/// FastGate cold (signature verified: validator without cache), cached (the verified-token cache hit that every
/// request after a token's first takes), and by Microsoft's JsonWebTokenHandler with the same keys and policy.
/// </summary>
[MemoryDiagnoser]
public class JwtValidatorBenchmarks
{
    private const string Issuer = "https://issuer.example";
    private const string Audience = "fastgate";

    private JwtValidator _cold = null!;
    private JwtValidator _cached = null!;
    private JwtValidationContext _context = null!;
    private JsonWebTokenHandler _handler = null!;
    private TokenValidationParameters _parameters = null!;
    private byte[] _token = [];
    private string _tokenString = "";
    private long _now;

    [Params("HS256", "RS256", "ES256")]
    public string Algorithm { get; set; } = "HS256";

    [GlobalSetup]
    public void Setup()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(64);
        using RSA rsa = RSA.Create(2048);
        using ECDsa ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        RSA rsaPublic = RSA.Create();
        rsaPublic.ImportParameters(rsa.ExportParameters(false));
        ECDsa ecPublic = ECDsa.Create();
        ecPublic.ImportParameters(ecdsa.ExportParameters(false));

        var keys = new JwtKeySet([JwtKey.ForHmac("h", secret), JwtKey.ForRsa("r", rsaPublic), JwtKey.ForEcdsa("e", ecPublic)]);
        var policy = new JwtPolicy(Issuer, [Audience], JwtAlgorithms.HS256 | JwtAlgorithms.RS256 | JwtAlgorithms.ES256, TimeSpan.FromSeconds(30));
        _cold = new JwtValidator(policy, keys, cacheCapacity: 0);
        _cached = new JwtValidator(policy, keys);
        _context = new JwtValidationContext();

        SecurityKey signingKey = Algorithm switch
        {
            "HS256" => new SymmetricSecurityKey(secret) { KeyId = "h" },
            "RS256" => new RsaSecurityKey(rsa.ExportParameters(true)) { KeyId = "r" },
            _ => new ECDsaSecurityKey(ECDsa.Create(ecdsa.ExportParameters(true))) { KeyId = "e" },
        };
        _handler = new JsonWebTokenHandler();
        _tokenString = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Expires = DateTime.UtcNow.AddHours(1),
            NotBefore = DateTime.UtcNow.AddMinutes(-1),
            IssuedAt = DateTime.UtcNow.AddMinutes(-1),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = "248289761001",
                ["scope"] = "users:read users:write orders:read",
                ["roles"] = new[] { "reader", "editor" },
                ["tenant"] = "acme",
                ["email"] = "jane.doe@example.com",
            },
            SigningCredentials = new SigningCredentials(signingKey, Algorithm),
        });
        _token = Encoding.ASCII.GetBytes(_tokenString);
        _now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKeys = [new SymmetricSecurityKey(secret) { KeyId = "h" }, new RsaSecurityKey(rsaPublic) { KeyId = "r" }, new ECDsaSecurityKey(ecPublic) { KeyId = "e" }],
            ValidAlgorithms = ["HS256", "RS256", "ES256"],
            ClockSkew = TimeSpan.FromSeconds(30),
            TryAllIssuerSigningKeys = false,
        };

        if (!Cold() || !Cached() || !Microsoft().GetAwaiter().GetResult().IsValid)
        {
            throw new InvalidOperationException("the benchmark token does not validate");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    [Benchmark(Baseline = true)]
    public Task<TokenValidationResult> Microsoft() => _handler.ValidateTokenAsync(_tokenString, _parameters);

    [Benchmark]
    public bool Cold() => _cold.Validate(_token, _now, _context) == JwtValidationResult.Valid;

    [Benchmark]
    public bool Cached() => _cached.Validate(_token, _now, _context) == JwtValidationResult.Valid;
}
