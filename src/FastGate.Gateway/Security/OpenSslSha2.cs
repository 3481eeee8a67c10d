using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace FastGate.Gateway.Security;

/// <summary>OpenSSL's low-level SHA-2 functions (libcrypto.so.3: SHA256_*, SHA384_Init, SHA512_*), called on
/// contexts that live in managed memory, for <see cref="HmacSha2"/>.</summary>
/// <remarks>
/// Why not <see cref="IncrementalHash"/>: for one 650-byte HMAC it spends half its 1.1-1.4 µs around the
/// hashing (EVP context reset, malloc/free, error-queue clearing, a GC transition per call). These functions
/// hash into a caller-owned context with no allocation, and use the same SHA-NI/AVX2 block functions.
/// They are deprecated in OpenSSL 3.0 but exported, and the context layouts are part of the public ABI
/// (openssl/sha.h: SHA256_CTX is 112 bytes, SHA512_CTX 216). They bypass the provider layer, so a FIPS
/// provider configuration does not apply to them. Where the library is missing (not Linux, other OpenSSL),
/// or a known-answer check at start-up fails, <see cref="IsAvailable"/> is false and callers use
/// <see cref="IncrementalHash"/>.
/// <para>All calls are <c>[SuppressGCTransition]</c>: they neither block, allocate nor call back, and the
/// transition would cost more than a short update. A suppressed call holds off a GC for its duration, so
/// long inputs go in chunks of <see cref="MaxChunk"/> bytes (under 1 µs of SHA-256 with SHA-NI at about 2 cycles
/// a byte, about 2 µs of SHA-512 with AVX2), and the JIT places a GC poll after each suppressed call. A token
/// (8 KiB at most by default) is then never one long uninterruptible call.</para>
/// </remarks>
internal static unsafe partial class OpenSslSha2
{
    private const string Library = "libcrypto.so.3";

    /// <summary>Bytes per update call: a multiple of both block sizes (64 and 128), so no update buffers a partial
    /// block between chunks.</summary>
    public const int MaxChunk = 1024;

    /// <summary>Whether the native functions are loaded and computed a known HMAC correctly; decided once.</summary>
    public static bool IsAvailable { get; } = Probe();

    /// <summary>SHA256_CTX: h[8], Nl, Nh, data[16], num, md_len; 28 32-bit words.</summary>
    [InlineArray(14)]
    public struct Sha256Context : ISha2Context<Sha256Context>
    {
        private ulong _element;

        public static int BlockBytes => 64;

        public static int Init(Sha256Context* context, int hashBits) => SHA256_Init(context);

        public static void Update(Sha256Context* context, byte* data, nuint length) => SHA256_Update(context, data, length);

        public static void Final(byte* digest, Sha256Context* context) => SHA256_Final(digest, context);
    }

    /// <summary>SHA512_CTX: h[8], Nl, Nh (64-bit), a 128-byte block, num, md_len; 216 bytes. SHA-384 is SHA-512
    /// with other initial values and a shorter output: SHA384_Update is SHA512_Update, SHA384_Final is SHA512_Final
    /// (which writes the md_len bytes set by the Init).</summary>
    [InlineArray(27)]
    public struct Sha512Context : ISha2Context<Sha512Context>
    {
        private ulong _element;

        public static int BlockBytes => 128;

        public static int Init(Sha512Context* context, int hashBits) => hashBits == 384 ? SHA384_Init(context) : SHA512_Init(context);

        public static void Update(Sha512Context* context, byte* data, nuint length) => SHA512_Update(context, data, length);

        public static void Final(byte* digest, Sha512Context* context) => SHA512_Final(digest, context);
    }

    /// <summary>Starts a SHA-<paramref name="hashBits"/> hash (256 for a <see cref="Sha256Context"/>, 384 or 512 for
    /// a <see cref="Sha512Context"/>).</summary>
    public static void Init<TContext>(TContext* context, int hashBits)
        where TContext : unmanaged, ISha2Context<TContext> => Check(TContext.Init(context, hashBits));

    public static void Update<TContext>(TContext* context, ReadOnlySpan<byte> data)
        where TContext : unmanaged, ISha2Context<TContext>
    {
        fixed (byte* start = data)
        {
            byte* p = start;
            int left = data.Length;
            while (left > MaxChunk)
            {
                TContext.Update(context, p, MaxChunk);
                p += MaxChunk;
                left -= MaxChunk;
            }

            TContext.Update(context, p, (nuint)left);
        }
    }

    /// <summary>Writes the digest: 32, 48 or 64 bytes, as chosen by the Init.</summary>
    public static void Final<TContext>(TContext* context, byte* digest)
        where TContext : unmanaged, ISha2Context<TContext> => TContext.Final(digest, context);

    private static void Check(int result)
    {
        if (result != 1)
        {
            throw new CryptographicException("OpenSSL SHA-2 initialisation failed");
        }
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(Library, out IntPtr handle))
        {
            return false;
        }

        foreach (string name in (ReadOnlySpan<string>)["SHA256_Init", "SHA256_Update", "SHA256_Final", "SHA384_Init", "SHA512_Init", "SHA512_Update", "SHA512_Final"])
        {
            if (!NativeLibrary.TryGetExport(handle, name, out _))
            {
                return false;
            }
        }

        // A wrong context size or a changed export would show here rather than as forged or refused tokens.
        try
        {
            Span<byte> key = stackalloc byte[200];
            Span<byte> message = stackalloc byte[300];
            for (int i = 0; i < key.Length; i++)
            {
                key[i] = (byte)(i * 7);
            }

            for (int i = 0; i < message.Length; i++)
            {
                message[i] = (byte)(i * 13);
            }

            Span<byte> actual = stackalloc byte[64];
            Span<byte> expected = stackalloc byte[64];
            foreach (int bits in (ReadOnlySpan<int>)[256, 384, 512])
            {
                foreach (int keyLength in (ReadOnlySpan<int>)[32, 200])
                {
                    HmacSha2 hmac = new(key[..keyLength], native: true);
                    int length = hmac.Compute(bits, message, actual);
                    int expectedLength = bits switch
                    {
                        256 => HMACSHA256.HashData(key[..keyLength], message, expected),
                        384 => HMACSHA384.HashData(key[..keyLength], message, expected),
                        _ => HMACSHA512.HashData(key[..keyLength], message, expected),
                    };
                    if (length != expectedLength || !actual[..length].SequenceEqual(expected[..length]))
                    {
                        return false;
                    }
                }
            }

            return true;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException or CryptographicException)
        {
            return false;
        }
    }

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial int SHA256_Init(Sha256Context* context);

    // The Update and Final functions always return 1 (they have no failure path for a valid context), so they
    // are declared void: the return register is simply not read.
    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial void SHA256_Update(Sha256Context* context, byte* data, nuint length);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial void SHA256_Final(byte* digest, Sha256Context* context);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial int SHA384_Init(Sha512Context* context);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial int SHA512_Init(Sha512Context* context);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial void SHA512_Update(Sha512Context* context, byte* data, nuint length);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial void SHA512_Final(byte* digest, Sha512Context* context);
}

/// <summary>One of OpenSSL's SHA-2 context layouts with its native functions: the generic members of
/// <see cref="OpenSslSha2"/> are compiled once per context struct, so each calls its own functions directly, as
/// the two hand-written copies did.</summary>
internal unsafe interface ISha2Context<TSelf>
    where TSelf : unmanaged, ISha2Context<TSelf>
{
    /// <summary>The hash's block: 64 bytes for SHA-256, 128 for SHA-384 and SHA-512 (FIPS 180-4 section 1).</summary>
    static abstract int BlockBytes { get; }

    /// <summary>1 on success.</summary>
    static abstract int Init(TSelf* context, int hashBits);

    static abstract void Update(TSelf* context, byte* data, nuint length);

    static abstract void Final(byte* digest, TSelf* context);
}
