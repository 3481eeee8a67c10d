using FastGate.Protocols.Http2;

namespace FastGate.Protocols.Tests.Http2;

public class Http2StreamStateTests
{
    // RFC 9113 section 5.1.
    [Theory]
    [InlineData((byte)Http2StreamState.Open, (byte)Http2StreamState.HalfClosedRemote)]
    [InlineData((byte)Http2StreamState.HalfClosedLocal, (byte)Http2StreamState.Closed)]
    [InlineData((byte)Http2StreamState.HalfClosedRemote, (byte)Http2StreamState.HalfClosedRemote)]
    [InlineData((byte)Http2StreamState.Closed, (byte)Http2StreamState.Closed)]
    public void End_stream_received(byte from, byte to) =>
        Assert.Equal((Http2StreamState)to, Http2StreamStates.OnEndStreamReceived((Http2StreamState)from));

    [Theory]
    [InlineData((byte)Http2StreamState.Open, (byte)Http2StreamState.HalfClosedLocal)]
    [InlineData((byte)Http2StreamState.HalfClosedRemote, (byte)Http2StreamState.Closed)]
    [InlineData((byte)Http2StreamState.HalfClosedLocal, (byte)Http2StreamState.HalfClosedLocal)]
    [InlineData((byte)Http2StreamState.Closed, (byte)Http2StreamState.Closed)]
    public void End_stream_sent(byte from, byte to) =>
        Assert.Equal((Http2StreamState)to, Http2StreamStates.OnEndStreamSent((Http2StreamState)from));

    [Theory]
    [InlineData((byte)Http2StreamState.Open, true)]
    [InlineData((byte)Http2StreamState.HalfClosedLocal, true)]
    [InlineData((byte)Http2StreamState.HalfClosedRemote, false)]
    [InlineData((byte)Http2StreamState.Closed, false)]
    public void Client_may_send_data_only_while_its_side_is_open(byte state, bool accepts) =>
        Assert.Equal(accepts, Http2StreamStates.AcceptsClientFrames((Http2StreamState)state));
}
