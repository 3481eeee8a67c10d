using System.Security.Cryptography;
using System.Text;
using FastGate.Gateway.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FastGate.Gateway.Tests.Security;

/// <summary>One set of keys for all JWT tests, with Microsoft's and FastGate's views of them, and token minting:
/// through Microsoft's JsonWebTokenHandler (valid tokens) or by hand (hostile tokens of any shape).</summary>
internal static class JwtTestKeys
{
    public const string Issuer = "https://issuer.example";
    public const string Audience = "fastgate";

    public static readonly byte[] HmacSecret = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    public static readonly RSA Rsa = RSA.Create(2048);
    public static readonly RSA OtherRsa = RSA.Create(2048);
    public static readonly ECDsa P256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly ECDsa P384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    public static readonly ECDsa P521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);

    public static readonly JwtAlgorithms[] AllAlgorithms =
    [
        JwtAlgorithms.HS256, JwtAlgorithms.HS384, JwtAlgorithms.HS512,
        JwtAlgorithms.RS256, JwtAlgorithms.RS384, JwtAlgorithms.RS512,
        JwtAlgorithms.PS256, JwtAlgorithms.PS384, JwtAlgorithms.PS512,
        JwtAlgorithms.ES256, JwtAlgorithms.ES384, JwtAlgorithms.ES512,
    ];

    /// <summary>Keys as FastGate holds them: public halves only, each with a kid.</summary>
    public static JwtKeySet KeySet { get; } = new(
    [
        JwtKey.ForHmac("hmac", HmacSecret),
        JwtKey.ForRsa("rsa", PublicOnly(Rsa)),
        JwtKey.ForEcdsa("p256", PublicOnly(P256)),
        JwtKey.ForEcdsa("p384", PublicOnly(P384)),
        JwtKey.ForEcdsa("p521", PublicOnly(P521)),
    ]);

    /// <summary>The same keys as Microsoft holds them.</summary>
    public static IReadOnlyList<SecurityKey> MicrosoftKeys { get; } =
    [
        new SymmetricSecurityKey(HmacSecret) { KeyId = "hmac" },
        new RsaSecurityKey(PublicOnly(Rsa)) { KeyId = "rsa" },
        new ECDsaSecurityKey(PublicOnly(P256)) { KeyId = "p256" },
        new ECDsaSecurityKey(PublicOnly(P384)) { KeyId = "p384" },
        new ECDsaSecurityKey(PublicOnly(P521)) { KeyId = "p521" },
    ];

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static JwtPolicy Policy(JwtAlgorithms algorithms = JwtAlgorithms.All) =>
        new(Issuer, [Audience, "other-audience"], algorithms, TimeSpan.FromSeconds(30));

    public static string Kid(JwtAlgorithms algorithm) => algorithm switch
    {
        _ when (algorithm & JwtAlgorithms.Hmac) != 0 => "hmac",
        _ when (algorithm & JwtAlgorithms.Rsa) != 0 => "rsa",
        JwtAlgorithms.ES256 => "p256",
        JwtAlgorithms.ES384 => "p384",
        _ => "p521",
    };

    /// <summary>A valid token minted by Microsoft's handler (exp in an hour, nbf and iat now).</summary>
    public static string MintWithMicrosoft(JwtAlgorithms algorithm, IDictionary<string, object>? claims = null)
    {
        SecurityKey key = algorithm switch
        {
            _ when (algorithm & JwtAlgorithms.Hmac) != 0 => new SymmetricSecurityKey(HmacSecret) { KeyId = "hmac" },
            _ when (algorithm & JwtAlgorithms.Rsa) != 0 => new RsaSecurityKey(Rsa) { KeyId = "rsa" },
            JwtAlgorithms.ES256 => new ECDsaSecurityKey(P256) { KeyId = "p256" },
            JwtAlgorithms.ES384 => new ECDsaSecurityKey(P384) { KeyId = "p384" },
            _ => new ECDsaSecurityKey(P521) { KeyId = "p521" },
        };
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Expires = DateTime.UtcNow.AddHours(1),
            NotBefore = DateTime.UtcNow.AddSeconds(-5),
            IssuedAt = DateTime.UtcNow.AddSeconds(-5),
            Claims = claims ?? new Dictionary<string, object> { ["sub"] = "user-42", ["scope"] = "users:read users:write" },
            SigningCredentials = new SigningCredentials(key, JwtAlgorithmInfo.Name(algorithm)),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>A standard payload: valid for an hour; <paramref name="extra"/> is raw JSON members appended.</summary>
    public static string Payload(long? exp = null, long? nbf = null, long? iat = null, string iss = Issuer, string aud = "\"" + Audience + "\"", string extra = "")
    {
        long now = Now;
        var builder = new StringBuilder("{");
        builder.Append($"\"iss\":\"{iss}\",\"aud\":{aud},\"sub\":\"user-42\"");
        builder.Append($",\"exp\":{exp ?? now + 3600}");
        builder.Append($",\"nbf\":{nbf ?? now - 5}");
        builder.Append($",\"iat\":{iat ?? now - 5}");
        builder.Append(extra);
        builder.Append('}');
        return builder.ToString();
    }

    public static string Header(JwtAlgorithms algorithm, string? kid = null, string extra = "") =>
        $"{{\"alg\":\"{JwtAlgorithmInfo.Name(algorithm)}\",\"kid\":\"{kid ?? Kid(algorithm)}\",\"typ\":\"JWT\"{extra}}}";

    /// <summary>Encodes header and payload as given (any JSON, valid or not) and signs them with
    /// <paramref name="algorithm"/> and the matching private key.</summary>
    public static string Sign(string header, string payload, JwtAlgorithms algorithm, byte[]? hmacSecret = null, RSA? rsa = null) =>
        SignWith(header, payload, input => SignBytes(algorithm, input, hmacSecret, rsa));

    public static string SignWith(string header, string payload, Func<byte[], byte[]> signer)
    {
        string input = B64(Encoding.UTF8.GetBytes(header)) + "." + B64(Encoding.UTF8.GetBytes(payload));
        return input + "." + B64(signer(Encoding.ASCII.GetBytes(input)));
    }

    public static byte[] SignBytes(JwtAlgorithms algorithm, byte[] input, byte[]? hmacSecret = null, RSA? rsa = null)
    {
        HashAlgorithmName hash = JwtAlgorithmInfo.Hash(algorithm);
        return algorithm switch
        {
            JwtAlgorithms.HS256 => HMACSHA256.HashData(hmacSecret ?? HmacSecret, input),
            JwtAlgorithms.HS384 => HMACSHA384.HashData(hmacSecret ?? HmacSecret, input),
            JwtAlgorithms.HS512 => HMACSHA512.HashData(hmacSecret ?? HmacSecret, input),
            JwtAlgorithms.RS256 or JwtAlgorithms.RS384 or JwtAlgorithms.RS512 => (rsa ?? Rsa).SignData(input, hash, RSASignaturePadding.Pkcs1),
            JwtAlgorithms.PS256 or JwtAlgorithms.PS384 or JwtAlgorithms.PS512 => (rsa ?? Rsa).SignData(input, hash, RSASignaturePadding.Pss),
            JwtAlgorithms.ES256 => P256.SignData(input, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            JwtAlgorithms.ES384 => P384.SignData(input, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => P521.SignData(input, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        };
    }

    public static string B64(byte[] bytes) => Base64UrlEncoder.Encode(bytes);

    public static string B64(string text) => B64(Encoding.UTF8.GetBytes(text));

    /// <summary>A JWKS document of the public keys (RFC 7517), for provider tests.</summary>
    public static string Jwks(params (string Kid, RSA Key)[] keys)
    {
        IEnumerable<string> jwks = keys.Select(k =>
        {
            RSAParameters p = k.Key.ExportParameters(false);
            return $"{{\"kty\":\"RSA\",\"kid\":\"{k.Kid}\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\"{B64(p.Modulus!)}\",\"e\":\"{B64(p.Exponent!)}\"}}";
        });
        return $"{{\"keys\":[{string.Join(",", jwks)}]}}";
    }

    private static RSA PublicOnly(RSA rsa)
    {
        var copy = RSA.Create();
        copy.ImportParameters(rsa.ExportParameters(false));
        return copy;
    }

    private static ECDsa PublicOnly(ECDsa ecdsa)
    {
        var copy = ECDsa.Create();
        copy.ImportParameters(ecdsa.ExportParameters(false));
        return copy;
    }
}
