namespace FastGate.Protocols.Http2;

/// <summary>
/// The states of a stream as a server sees them (RFC 9113 section 5.1). A server never sends
/// PUSH_PROMISE, so the reserved states do not occur; "idle" and "closed" streams have no object
/// (a stream identifier at or below the highest one opened is closed, above it idle).
/// <code>
///                          +--------+
///                  recv H  |        |
///              ,-----------|  idle  |
///             /            +--------+
///            v
///      +----------+ recv ES  +----------+  send ES / send R
///      |   open   |--------->|   half   |------------------.
///      |          |          |  closed  |                   v
///      +----------+          | (remote) |             +--------+
///            | send ES       +----------+             |        |
///            v                                       |  closed |
///      +----------+  recv ES / send R / recv R        |        |
///      |   half   |---------------------------------->+--------+
///      |  closed  |
///      |  (local) |
///      +----------+
/// </code>
/// </summary>
internal enum Http2StreamState : byte
{
    Open,
    HalfClosedRemote,
    HalfClosedLocal,
    Closed,
}

/// <summary>The transitions of <see cref="Http2StreamState"/> on END_STREAM sent or received.</summary>
internal static class Http2StreamStates
{
    /// <summary>The state after the client's END_STREAM (on HEADERS or DATA).</summary>
    public static Http2StreamState OnEndStreamReceived(Http2StreamState state) => state switch
    {
        Http2StreamState.Open => Http2StreamState.HalfClosedRemote,
        Http2StreamState.HalfClosedLocal => Http2StreamState.Closed,
        _ => state,
    };

    /// <summary>The state after our END_STREAM (on HEADERS or DATA).</summary>
    public static Http2StreamState OnEndStreamSent(Http2StreamState state) => state switch
    {
        Http2StreamState.Open => Http2StreamState.HalfClosedLocal,
        Http2StreamState.HalfClosedRemote => Http2StreamState.Closed,
        _ => state,
    };

    /// <summary>
    /// May the client send DATA or HEADERS on a stream in this state? In "half-closed (remote)" and
    /// "closed" it may not: a stream error STREAM_CLOSED (section 5.1).
    /// </summary>
    public static bool AcceptsClientFrames(Http2StreamState state) =>
        state is Http2StreamState.Open or Http2StreamState.HalfClosedLocal;
}
