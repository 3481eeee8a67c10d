using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace FastGate.Gateway.Security;

/// <summary>HMAC-SHA-256/384/512 (RFC 2104) with one key, for HS256/384/512 (RFC 7518 section 3.2);
/// thread-safe, allocation-free per call.</summary>
/// <remarks>
/// HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), where K' is the key zero-padded to the hash's block
/// (hashed first when longer than the block). Both padded keys fill exactly one block, so the hash states after
/// absorbing them depend on the key only: they are computed once here, and a MAC copies them to the stack and
/// absorbs only the message and the inner digest: two compression blocks fewer per MAC (11 instead of 13 for a
/// 600-byte signing input) and no native allocation. Without <see cref="OpenSslSha2"/>, one keyed <see cref="IncrementalHash"/> per
/// thread and hash does the same work with the binding's per-call overhead.
/// </remarks>
[SkipLocalsInit]
internal sealed unsafe class HmacSha2
{
    private const byte InnerPad = 0x36;
    private const byte OuterPad = 0x5C;

    private readonly OpenSslSha2.Sha256Context _inner256;
    private readonly OpenSslSha2.Sha256Context _outer256;
    private readonly OpenSslSha2.Sha512Context _inner384;
    private readonly OpenSslSha2.Sha512Context _outer384;
    private readonly OpenSslSha2.Sha512Context _inner512;
    private readonly OpenSslSha2.Sha512Context _outer512;

    /// <summary>The portable path: keyed HMAC per thread for SHA-256, -384 and -512 (an IncrementalHash is not
    /// thread-safe); null on the native path.</summary>
    private readonly ThreadLocal<IncrementalHash>[]? _portable;

    /// <summary>Uses OpenSSL when <see cref="OpenSslSha2.IsAvailable"/>, else <see cref="IncrementalHash"/>.</summary>
    public HmacSha2(ReadOnlySpan<byte> key)
        : this(key, OpenSslSha2.IsAvailable)
    {
    }

    /// <param name="native">true only where <see cref="OpenSslSha2"/> can be loaded (the start-up probe and
    /// tests choose the path explicitly)</param>
    internal HmacSha2(ReadOnlySpan<byte> key, bool native)
    {
        IsNative = native;
        if (!native)
        {
            byte[] secret = key.ToArray();
            _portable = [Portable(HashAlgorithmName.SHA256, secret), Portable(HashAlgorithmName.SHA384, secret), Portable(HashAlgorithmName.SHA512, secret)];
            return;
        }

        Key(key, 256, out _inner256, out _outer256);
        Key(key, 384, out _inner384, out _outer384);
        Key(key, 512, out _inner512, out _outer512);
    }

    public bool IsNative { get; }

    /// <summary>HMAC of <paramref name="data"/> with SHA-<paramref name="hashBits"/> (256, 384 or 512) into
    /// <paramref name="destination"/> (at least 64 bytes); the MAC length.</summary>
    public int Compute(int hashBits, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < 64)
        {
            throw new ArgumentException("the destination must hold 64 bytes", nameof(destination));
        }

        if (_portable is not null)
        {
            IncrementalHash hmac = _portable[hashBits == 256 ? 0 : hashBits == 384 ? 1 : 2].Value!;
            hmac.AppendData(data);
            return hmac.GetHashAndReset(destination);
        }

        fixed (byte* digest = destination)
        {
            return hashBits switch
            {
                256 => Mac(in _inner256, in _outer256, data, digest, 32),
                384 => Mac(in _inner384, in _outer384, data, digest, 48),
                _ => Mac(in _inner512, in _outer512, data, digest, 64),
            };
        }
    }

    /// <summary>H(outer state || H(inner state || data)) into <paramref name="digest"/>; the MAC length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Mac<TContext>(in TContext innerKeyed, in TContext outerKeyed, ReadOnlySpan<byte> data, byte* digest, int length)
        where TContext : unmanaged, ISha2Context<TContext>
    {
        // Stack copies of the keyed states: the instance stays immutable, so threads share it.
        TContext inner = innerKeyed;
        OpenSslSha2.Update(&inner, data);
        OpenSslSha2.Final(&inner, digest);
        TContext outer = outerKeyed;
        OpenSslSha2.Update(&outer, new ReadOnlySpan<byte>(digest, length));
        OpenSslSha2.Final(&outer, digest);
        return length;
    }

    /// <summary>Whether a computed MAC equals the presented one, in time that depends only on the length (a public
    /// value), so a forger learns nothing from how long a wrong guess took.</summary>
    /// <remarks>CryptographicOperations.FixedTimeEquals is compiled without optimization on purpose: 146 ns for
    /// 32 bytes against 2 ns here (thread CPU time, loaded machine; perf-results/benchmarks_2026-11-26_hs256.md).
    /// Here every byte is XORed and ORed into one vector regardless of where the first difference is, and only the
    /// total is tested: SHA-2 MACs are 32, 48 or 64 bytes, whole 16-byte vectors.</remarks>
    public static bool MacEquals(ReadOnlySpan<byte> computed, ReadOnlySpan<byte> presented)
    {
        if (computed.Length != presented.Length)
        {
            return false;
        }

        if ((computed.Length & 15) != 0)
        {
            return CryptographicOperations.FixedTimeEquals(computed, presented);
        }

        Vector128<byte> difference = Vector128<byte>.Zero;
        for (int i = 0; i < computed.Length; i += 16)
        {
            difference |= Vector128.Create(computed.Slice(i, 16)) ^ Vector128.Create(presented.Slice(i, 16));
        }

        return difference == Vector128<byte>.Zero;
    }

    /// <summary>The SHA-<paramref name="hashBits"/> states after absorbing K' ^ ipad and K' ^ opad (RFC 2104 section 2).</summary>
    private static void Key<TContext>(ReadOnlySpan<byte> key, int hashBits, out TContext inner, out TContext outer)
        where TContext : unmanaged, ISha2Context<TContext>
    {
        Span<byte> block = stackalloc byte[TContext.BlockBytes];
        Unsafe.SkipInit(out inner);
        Unsafe.SkipInit(out outer);
        fixed (TContext* innerState = &inner, outerState = &outer)
        {
            PadKey(key, hashBits, block, InnerPad);
            OpenSslSha2.Init(innerState, hashBits);
            OpenSslSha2.Update(innerState, block);
            PadKey(key, hashBits, block, OuterPad);
            OpenSslSha2.Init(outerState, hashBits);
            OpenSslSha2.Update(outerState, block);
        }

        CryptographicOperations.ZeroMemory(block);
    }

    /// <summary>K' XOR pad over the hash's block (RFC 2104 section 2): a key longer than the block is replaced by
    /// its hash, a shorter one is zero-padded.</summary>
    private static void PadKey(scoped ReadOnlySpan<byte> key, int hashBits, Span<byte> block, byte pad)
    {
        Span<byte> hashed = stackalloc byte[64];
        if (key.Length > block.Length)
        {
            int length = hashBits switch
            {
                256 => SHA256.HashData(key, hashed),
                384 => SHA384.HashData(key, hashed),
                _ => SHA512.HashData(key, hashed),
            };
            key = hashed[..length];
        }

        block.Clear();
        key.CopyTo(block);
        for (int i = 0; i < block.Length; i++)
        {
            block[i] ^= pad;
        }

        CryptographicOperations.ZeroMemory(hashed);
    }

    private static ThreadLocal<IncrementalHash> Portable(HashAlgorithmName hash, byte[] secret) =>
        new(() => IncrementalHash.CreateHMAC(hash, secret));
}
