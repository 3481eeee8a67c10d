namespace FastGate.Protocols.Http2;

/// <summary>
/// A flow-control window (RFC 9113 section 6.9): the octets of DATA that may still be sent (or received)
/// on a stream or on the connection. It may go negative after SETTINGS_INITIAL_WINDOW_SIZE shrinks
/// (section 6.9.2); nothing may then be sent until WINDOW_UPDATE frames lift it above zero.
/// </summary>
internal struct Http2FlowWindow
{
    private int _available;

    public Http2FlowWindow(int initialSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialSize);
        _available = initialSize;
    }

    /// <summary>The window; negative after an initial window size decrease.</summary>
    public readonly int Available => _available;

    /// <summary>
    /// Takes <paramref name="length"/> octets from the window; false (and unchanged) if it does not hold
    /// them. Zero always fits, even in a negative window: an empty DATA frame (e.g. only END_STREAM)
    /// consumes no flow-control credit.
    /// </summary>
    public bool TryConsume(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length > _available && length != 0)
        {
            return false;
        }

        _available -= length;
        return true;
    }

    /// <summary>
    /// Applies a WINDOW_UPDATE increment (1 to 2^31-1, validated by the frame reader). A window above
    /// 2^31-1 is a FLOW_CONTROL_ERROR: a stream error for a stream's window, a connection error for the
    /// connection's (section 6.9.1).
    /// </summary>
    /// <param name="streamId">the window's stream, 0 for the connection window</param>
    public void Increase(int increment, int streamId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(increment);
        long updated = (long)_available + increment;
        if (updated > Http2Protocol.MaxWindowSize)
        {
            Http2Throw.StreamOrConnection(streamId, Http2ErrorCode.FlowControlError);
        }

        _available = (int)updated;
    }

    /// <summary>
    /// Applies a change of SETTINGS_INITIAL_WINDOW_SIZE to a stream window: the difference between the new
    /// and the old value is added, which may make it negative; a window above 2^31-1 is a connection
    /// error FLOW_CONTROL_ERROR (section 6.9.2).
    /// </summary>
    public void ApplyInitialSizeChange(int oldInitialSize, int newInitialSize)
    {
        long updated = (long)_available + newInitialSize - oldInitialSize;
        if (updated > Http2Protocol.MaxWindowSize)
        {
            Http2Throw.Connection(Http2ErrorCode.FlowControlError);
        }

        _available = (int)updated;
    }
}
