using FastGate.Protocols.Http2;

namespace FastGate.Protocols.Tests.Http2;

public class Http2FlowWindowTests
{
    [Fact]
    public void Consumes_only_what_the_window_holds()
    {
        var window = new Http2FlowWindow(Http2Protocol.DefaultInitialWindowSize);
        Assert.False(window.TryConsume(65_536));
        Assert.Equal(65_535, window.Available);
        Assert.True(window.TryConsume(65_535));
        Assert.Equal(0, window.Available);
        Assert.True(window.TryConsume(0));
        Assert.False(window.TryConsume(1));
    }

    [Fact]
    public void Increases_up_to_two_to_the_31_minus_1()
    {
        var window = new Http2FlowWindow(0);
        window.Increase(int.MaxValue, streamId: 1);
        Assert.Equal(int.MaxValue, window.Available);
    }

    [Fact]
    public void Overflowing_a_stream_window_is_a_stream_error()
    {
        var window = new Http2FlowWindow(Http2Protocol.DefaultInitialWindowSize);
        var error = Assert.Throws<Http2StreamException>(() => window.Increase(int.MaxValue - 65_534, streamId: 3));
        Assert.Equal((3, Http2ErrorCode.FlowControlError), (error.StreamId, error.ErrorCode));
        Assert.Equal(65_535, window.Available);
    }

    [Fact]
    public void Overflowing_the_connection_window_is_a_connection_error()
    {
        var window = new Http2FlowWindow(Http2Protocol.DefaultInitialWindowSize);
        var error = Assert.Throws<Http2ConnectionException>(() => window.Increase(int.MaxValue, streamId: 0));
        Assert.Equal(Http2ErrorCode.FlowControlError, error.ErrorCode);
    }

    [Fact]
    public void A_smaller_initial_window_size_can_make_a_window_negative()
    {
        // Section 6.9.2: 1000 octets sent, then SETTINGS_INITIAL_WINDOW_SIZE drops from 65535 to 0.
        var window = new Http2FlowWindow(Http2Protocol.DefaultInitialWindowSize);
        Assert.True(window.TryConsume(1000));
        window.ApplyInitialSizeChange(65_535, 0);
        Assert.Equal(-1000, window.Available);
        Assert.False(window.TryConsume(1));
        Assert.True(window.TryConsume(0));

        window.Increase(1005, streamId: 1);
        Assert.Equal(5, window.Available);
        window.ApplyInitialSizeChange(0, 100);
        Assert.Equal(105, window.Available);
    }

    [Fact]
    public void A_larger_initial_window_size_past_the_maximum_is_a_connection_error()
    {
        var window = new Http2FlowWindow(Http2Protocol.DefaultInitialWindowSize);
        window.Increase(int.MaxValue - 65_535 - 10, streamId: 1);
        var error = Assert.Throws<Http2ConnectionException>(() => window.ApplyInitialSizeChange(65_535, 65_546));
        Assert.Equal(Http2ErrorCode.FlowControlError, error.ErrorCode);
    }
}
