using System.IO.Hashing;
using System.Numerics;
using System.Security.Cryptography;

namespace FastGate.Gateway.Security;

/// <summary>Tokens whose signature and claims were verified, until their "exp", so an RS/ES signature is not
/// verified again on every request. Bounded, lock-free for readers and writers.</summary>
/// <remarks>
/// A set-associative table of 4-entry buckets holding immutable entries. The bucket is chosen by a 64-bit
/// XxHash3 of the token with a random seed (an attacker cannot aim many tokens at one bucket); a hit also
/// compares the whole token, so a hash collision can never return another token's claims. An insert takes
/// an empty or expired way, else the oldest one: eviction by insertion age within the bucket.
/// Race window: two threads inserting into one bucket at once may overwrite each other's entry; the loser's
/// token is simply verified again on its next use.
/// An entry remembers the key set it was verified with; after a key refresh the token is verified again, so a
/// removed key stops being trusted at once.
/// </remarks>
internal sealed class VerifiedTokenCache
{
    public const int DefaultCapacity = 10_000;
    private const int Ways = 4;

    private readonly Entry?[] _slots;
    private readonly int _bucketMask;
    private readonly long _seed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
    private long _sequence;

    /// <param name="capacity">rounded up to a power of two: the most entries the cache holds</param>
    public VerifiedTokenCache(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, Ways);
        int slots = (int)BitOperations.RoundUpToPowerOf2((uint)capacity);
        _slots = new Entry?[slots];
        _bucketMask = (slots / Ways) - 1;
    }

    public int Capacity => _slots.Length;

    public ulong Hash(ReadOnlySpan<byte> token) => XxHash3.HashToUInt64(token, _seed);

    /// <summary>The entry for exactly <paramref name="token"/> verified with <paramref name="keys"/>, or null.</summary>
    public Entry? Find(ReadOnlySpan<byte> token, ulong hash, JwtKeySet keys)
    {
        int first = (int)(hash & (ulong)_bucketMask) * Ways;
        for (int i = first; i < first + Ways; i++)
        {
            Entry? entry = Volatile.Read(ref _slots[i]);
            if (entry is not null && entry.Hash == hash && ReferenceEquals(entry.Keys, keys) && token.SequenceEqual(entry.Token))
            {
                return entry;
            }
        }

        return null;
    }

    public void Add(ReadOnlySpan<byte> token, ulong hash, ReadOnlySpan<byte> payload, long expiresAt, JwtKeySet keys, long nowUnixSeconds)
    {
        var entry = new Entry(hash, token.ToArray(), payload.ToArray(), expiresAt, keys, Interlocked.Increment(ref _sequence));
        int first = (int)(hash & (ulong)_bucketMask) * Ways;
        int victim = first;
        long oldest = long.MaxValue;
        for (int i = first; i < first + Ways; i++)
        {
            Entry? current = Volatile.Read(ref _slots[i]);
            if (current is null || current.ExpiresAt <= nowUnixSeconds || !ReferenceEquals(current.Keys, keys))
            {
                victim = i;
                break;
            }

            if (current.Sequence < oldest)
            {
                oldest = current.Sequence;
                victim = i;
            }
        }

        Volatile.Write(ref _slots[victim], entry);
    }

    /// <summary>One verified token; immutable, so readers need no lock and its payload can back claims.</summary>
    internal sealed class Entry(ulong hash, byte[] token, byte[] payload, long expiresAt, JwtKeySet keys, long sequence)
    {
        public ulong Hash { get; } = hash;

        public byte[] Token { get; } = token;

        public byte[] Payload { get; } = payload;

        public long ExpiresAt { get; } = expiresAt;

        public JwtKeySet Keys { get; } = keys;

        public long Sequence { get; } = sequence;
    }
}
