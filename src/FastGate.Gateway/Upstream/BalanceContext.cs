namespace FastGate.Gateway.Upstream;

/// <summary>What the hash balancer hashes: the client IP bytes or a header value.</summary>
internal readonly ref struct BalanceContext
{
    public BalanceContext(ReadOnlySpan<byte> hashKey) => HashKey = hashKey;

    public ReadOnlySpan<byte> HashKey { get; }
}
