using System.Runtime.InteropServices;

namespace FastGate.Gateway.Upstream;

/// <summary>
/// Rendezvous (highest random weight) hashing: every endpoint scores the key and the highest score wins.
/// When an endpoint goes away (removed or unavailable) only the keys it won move, each to its runner-up;
/// every other key stays put. The key is hashed once (FNV-1a, 64 bit) and mixed with each endpoint's seed.
/// NOTE: HashCode is randomized per process; FNV over the endpoint's authority is deterministic, so every
/// gateway instance in a fleet sends a given key to the same endpoint.
/// </summary>
internal sealed class HashBalancer : LoadBalancer
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    private readonly ulong[] _seeds;

    public HashBalancer(EndpointState[] endpoints)
        : base(endpoints)
    {
        _seeds = new ulong[endpoints.Length];
        for (var i = 0; i < endpoints.Length; i++)
        {
            _seeds[i] = Fnv1a(MemoryMarshal.AsBytes(endpoints[i].Model.Authority.AsSpan()));
        }
    }

    public override EndpointState? Pick(in BalanceContext context, EndpointState? exclude)
    {
        var endpoints = Endpoints;
        var keyHash = Fnv1a(context.HashKey);
        EndpointState? best = null;
        var bestScore = 0UL;
        for (var i = 0; i < endpoints.Length; i++)
        {
            var endpoint = endpoints[i];
            if (!IsCandidate(endpoint, exclude))
            {
                continue;
            }

            var score = Mix(keyHash ^ _seeds[i]);
            if (best is null || score > bestScore)
            {
                best = endpoint;
                bestScore = score;
            }
        }

        return best;
    }

    internal static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        var hash = FnvOffset;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * FnvPrime;
        }

        return hash;
    }

    // MurmurHash3's 64-bit finalizer: FNV alone mixes its last bytes poorly, and XOR with the seed would
    // keep the key's low-bit patterns; the avalanche makes each endpoint's score independent.
    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccd;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53;
        x ^= x >> 33;
        return x;
    }
}
