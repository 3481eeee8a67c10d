using System.Security.Cryptography;

namespace FastGate.Gateway.Security;

/// <summary>JWS algorithms (RFC 7518 section 3.1) a policy may allow; one bit each, so a policy is a set.</summary>
/// <remarks>"none" has no member on purpose: it can never be allowed (RFC 8725 section 3.1).</remarks>
[Flags]
internal enum JwtAlgorithms
{
    None = 0,
    HS256 = 1 << 0,
    HS384 = 1 << 1,
    HS512 = 1 << 2,
    RS256 = 1 << 3,
    RS384 = 1 << 4,
    RS512 = 1 << 5,
    PS256 = 1 << 6,
    PS384 = 1 << 7,
    PS512 = 1 << 8,
    ES256 = 1 << 9,
    ES384 = 1 << 10,
    ES512 = 1 << 11,

    Hmac = HS256 | HS384 | HS512,
    Rsa = RS256 | RS384 | RS512 | PS256 | PS384 | PS512,
    EllipticCurve = ES256 | ES384 | ES512,
    All = Hmac | Rsa | EllipticCurve,
}

/// <summary>Names, hash functions and sizes of the single algorithms of <see cref="JwtAlgorithms"/>.</summary>
internal static class JwtAlgorithmInfo
{
    /// <summary>Maps an exact, case-sensitive "alg" value (RFC 7515 section 4.1.1) to one algorithm.</summary>
    public static bool TryParse(ReadOnlySpan<byte> name, out JwtAlgorithms algorithm)
    {
        algorithm = JwtAlgorithms.None;
        if (name.Length != 5)
        {
            return false;
        }

        JwtAlgorithms family = name[..2] switch
        {
            var p when p.SequenceEqual("HS"u8) => JwtAlgorithms.HS256,
            var p when p.SequenceEqual("RS"u8) => JwtAlgorithms.RS256,
            var p when p.SequenceEqual("PS"u8) => JwtAlgorithms.PS256,
            var p when p.SequenceEqual("ES"u8) => JwtAlgorithms.ES256,
            _ => JwtAlgorithms.None,
        };
        int shift = name[2..] switch
        {
            var s when s.SequenceEqual("256"u8) => 0,
            var s when s.SequenceEqual("384"u8) => 1,
            var s when s.SequenceEqual("512"u8) => 2,
            _ => -1,
        };
        if (family == JwtAlgorithms.None || shift < 0)
        {
            return false;
        }

        algorithm = (JwtAlgorithms)((int)family << shift);
        return true;
    }

    /// <summary>Parses a configured name such as "RS256" (exact case, as on the wire).</summary>
    public static bool TryParse(string name, out JwtAlgorithms algorithm)
    {
        Span<byte> utf8 = stackalloc byte[8];
        algorithm = JwtAlgorithms.None;
        return name.Length <= utf8.Length
            && System.Text.Encoding.UTF8.TryGetBytes(name, utf8, out int written)
            && TryParse(utf8[..written], out algorithm);
    }

    public static HashAlgorithmName Hash(JwtAlgorithms algorithm) => HashBits(algorithm) switch
    {
        256 => HashAlgorithmName.SHA256,
        384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    /// <summary>256, 384 or 512: the SHA-2 variant of the algorithm.</summary>
    public static int HashBits(JwtAlgorithms algorithm) =>
        (algorithm & (JwtAlgorithms.HS256 | JwtAlgorithms.RS256 | JwtAlgorithms.PS256 | JwtAlgorithms.ES256)) != 0 ? 256
        : (algorithm & (JwtAlgorithms.HS384 | JwtAlgorithms.RS384 | JwtAlgorithms.PS384 | JwtAlgorithms.ES384)) != 0 ? 384
        : 512;

    /// <summary>The curve an ES algorithm is bound to (RFC 7518 section 3.4): ES512 is P-521, not P-512.</summary>
    public static JwtCurve Curve(JwtAlgorithms algorithm) => algorithm switch
    {
        JwtAlgorithms.ES256 => JwtCurve.P256,
        JwtAlgorithms.ES384 => JwtCurve.P384,
        JwtAlgorithms.ES512 => JwtCurve.P521,
        _ => JwtCurve.None,
    };

    public static string Name(JwtAlgorithms algorithm) => algorithm switch
    {
        JwtAlgorithms.HS256 => "HS256",
        JwtAlgorithms.HS384 => "HS384",
        JwtAlgorithms.HS512 => "HS512",
        JwtAlgorithms.RS256 => "RS256",
        JwtAlgorithms.RS384 => "RS384",
        JwtAlgorithms.RS512 => "RS512",
        JwtAlgorithms.PS256 => "PS256",
        JwtAlgorithms.PS384 => "PS384",
        JwtAlgorithms.PS512 => "PS512",
        JwtAlgorithms.ES256 => "ES256",
        JwtAlgorithms.ES384 => "ES384",
        JwtAlgorithms.ES512 => "ES512",
        _ => algorithm.ToString(),
    };
}

/// <summary>NIST curves of JWK "crv" (RFC 7518 section 6.2.1.1).</summary>
internal enum JwtCurve
{
    None,
    P256,
    P384,
    P521,
}
