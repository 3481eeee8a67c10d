using System.Buffers.Binary;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using FastGate.Protocols.Http2;

namespace FastGate.FunctionalTests.Http2;

/// <summary>
/// RFC 9113 requirements a client can exercise, each with raw frames: the answer is the exact error
/// kind (connection error = GOAWAY, stream error = RST_STREAM) and code the RFC names.
/// </summary>
public sealed class Http2ProtocolTests(H2GatewayFixture fixture) : IClassFixture<H2GatewayFixture>
{
    private H2RawClient Connect() => H2RawClient.Connect(fixture.Port);

    private static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Setting(Http2SettingsParameter parameter, uint value)
    {
        var bytes = new byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)parameter);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), value);
        return bytes;
    }

    /// <summary>The connection still answers a request after the test's error.</summary>
    private static void AssertStillServes(H2RawClient client, int streamId) => H2GatewayFixture.AssertStillServes(client, streamId);

    // Section 3.4 and 6.5: the server preface is SETTINGS, with the limits the gateway enforces.
    [Fact]
    public void Server_preface_announces_concurrency_and_header_list_limits()
    {
        using var client = Connect();
        Assert.Equal(4u, client.ServerSettings[Http2SettingsParameter.MaxConcurrentStreams]);
        Assert.Equal(8192u, client.ServerSettings[Http2SettingsParameter.MaxHeaderListSize]);
    }

    [Fact]
    public void Get_is_proxied_and_answered_with_lowercase_fields_and_no_connection_fields()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/hello?x=1"));
        var response = client.ReadResponse(1);
        Assert.Equal(200, response.Status);
        Assert.Equal("GET /hello?x=1", response.BodyText);
        Assert.All(response.Headers, h => Assert.Equal(h.Key.ToLowerInvariant(), h.Key));
        Assert.DoesNotContain(response.Headers, h => h.Key is "connection" or "transfer-encoding" or "keep-alive");
    }

    [Fact]
    public void Head_request_gets_headers_only()
    {
        using var client = Connect();
        client.SendHeaders(1, [(":method", "HEAD"), (":scheme", "http"), (":authority", "a"), (":path", "/big")]);
        var response = client.ReadResponse(1);
        Assert.Equal(200, response.Status);
        Assert.Empty(response.Body);
        Assert.Equal("200000", response.Header("content-length"));
    }

    [Fact]
    public void Cookie_crumbs_are_joined_for_the_http1_upstream()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/cookies", "a", ("cookie", "a=1"), ("x-probe", "cookies"), ("cookie", "b=2")));
        Assert.Equal(200, client.ReadResponse(1).Status);
        var seen = fixture.Backend.Seen.Last(r => r.Headers.TryGetValue("x-probe", out var v) && v == "cookies");
        Assert.Equal("a=1; b=2", seen.Headers["Cookie"]);
    }

    [Fact]
    public void Authority_becomes_the_forwarded_host()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/authority", "api.example.test", ("x-probe", "authority")));
        Assert.Equal(200, client.ReadResponse(1).Status);
        var seen = fixture.Backend.Seen.Last(r => r.Headers.TryGetValue("x-probe", out var v) && v == "authority");
        Assert.Equal("api.example.test", seen.Headers["X-Forwarded-Host"]);
        Assert.False(string.IsNullOrEmpty(seen.Headers["X-Request-Id"]));
    }

    [Fact]
    public void Post_body_with_content_length_streams_upstream()
    {
        using var client = Connect();
        var body = Encoding.ASCII.GetBytes("hello over h2");
        client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/post-cl"), ("content-length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))], endStream: false);
        client.SendData(1, body[..5], endStream: false);
        client.SendData(1, body[5..], endStream: true);
        Assert.Equal("POST /post-cl", client.ReadResponse(1).BodyText);
        Assert.Equal(body, fixture.Backend.Seen.Last(r => r.PathAndQuery == "/post-cl").Body);
    }

    [Fact]
    public void Post_body_without_content_length_goes_upstream_chunked()
    {
        using var client = Connect();
        client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/post-chunked")], endStream: false);
        client.SendData(1, "abc"u8.ToArray(), endStream: false);
        client.SendData(1, "defg"u8.ToArray(), endStream: true);
        Assert.Equal("POST /post-chunked", client.ReadResponse(1).BodyText);
        var seen = fixture.Backend.Seen.Last(r => r.PathAndQuery == "/post-chunked");
        Assert.Equal("abcdefg", Encoding.ASCII.GetString(seen.Body));
        Assert.Equal("chunked", seen.Headers["Transfer-Encoding"]);
    }

    [Fact]
    public void Trailers_end_the_request_body()
    {
        using var client = Connect();
        client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/trailers")], endStream: false);
        client.SendData(1, "xyz"u8.ToArray(), endStream: false);
        client.SendHeaders(1, [("x-checksum", "1")], endStream: true);
        Assert.Equal("POST /trailers", client.ReadResponse(1).BodyText);
    }

    [Fact]
    public void Trailers_with_a_pseudo_header_are_malformed()
    {
        using var client = Connect();
        client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/bad-trailers")], endStream: false);
        client.SendData(1, "xyz"u8.ToArray(), endStream: false);
        client.SendHeaders(1, [(":path", "/again")], endStream: true);
        client.ExpectReset(1, Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public void Trailers_without_end_stream_are_malformed()
    {
        using var client = Connect();
        client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/bad-trailers")], endStream: false);
        client.SendData(1, "xyz"u8.ToArray(), endStream: false);
        client.SendHeaders(1, [("x-checksum", "1")], endStream: false);
        client.ExpectReset(1, Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public void Chunked_upstream_body_ends_with_an_empty_end_stream_data_frame()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/chunked"));
        var response = client.ReadResponse(1);
        Assert.Equal("part one, part two", response.BodyText);
        Assert.Null(response.Header("content-length"));
    }

    [Fact]
    public void Large_body_is_split_into_frames_no_larger_than_the_default_max_frame_size()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/big"));
        var response = client.ReadResponse(1);
        Assert.Equal(H2GatewayFixture.BigBody, response.Body);
        Assert.True(response.DataFrames >= 200_000 / 16_384);
    }

    [Fact]
    public async Task No_route_is_the_same_problem_document_as_on_http1()
    {
        await using var gateway = await TestGateway.StartAsync("""
            [upstreams.none]
            endpoints = ["127.0.0.1:9"]

            [[routes]]
            name = "only"
            match = { path = "/only" }
            upstream = "none"
            """);
        using var client = H2RawClient.Connect(gateway.Port);
        client.SendHeaders(1, H2RawClient.Get("/elsewhere"));
        var response = client.ReadResponse(1);
        Assert.Equal(404, response.Status);
        Assert.Equal("application/problem+json", response.Header("content-type"));
        Assert.Equal(response.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Header("content-length"));
        using var document = System.Text.Json.JsonDocument.Parse(response.Body);
        Assert.Equal("https://fastgate.dev/problems/no-route", document.RootElement.GetProperty("type").GetString());
        Assert.Equal(response.Header("x-request-id"), document.RootElement.GetProperty("instance").GetString());
    }

    // Section 8.2.1 to 8.3.1: malformed requests are stream errors PROTOCOL_ERROR and never reach an upstream.
    [Theory]
    [InlineData("uppercase-name")]
    [InlineData("connection")]
    [InlineData("keep-alive")]
    [InlineData("transfer-encoding")]
    [InlineData("upgrade")]
    [InlineData("proxy-connection")]
    [InlineData("te-gzip")]
    [InlineData("missing-path")]
    [InlineData("missing-method")]
    [InlineData("missing-scheme")]
    [InlineData("empty-path")]
    [InlineData("duplicate-path")]
    [InlineData("pseudo-after-regular")]
    [InlineData("unknown-pseudo")]
    [InlineData("response-pseudo")]
    [InlineData("value-with-newline")]
    [InlineData("value-with-leading-space")]
    [InlineData("host-differs-from-authority")]
    [InlineData("content-length-without-data")]
    [InlineData("name-with-space")]
    [InlineData("name-with-colon")]
    [InlineData("name-with-high-octet")]
    [InlineData("name-with-control")]
    [InlineData("value-with-nul")]
    [InlineData("value-with-cr")]
    [InlineData("value-with-trailing-tab")]
    [InlineData("duplicate-method")]
    [InlineData("duplicate-scheme")]
    [InlineData("duplicate-authority")]
    [InlineData("missing-all-pseudo")]
    [InlineData("connect-with-path")]
    [InlineData("connect-without-authority")]
    public void Malformed_request_is_a_stream_error_and_reaches_no_upstream(string kind)
    {
        (string, string)[] fields = kind switch
        {
            "uppercase-name" => H2RawClient.Get("/m", "a", ("X-Upper", "1")),
            "connection" => H2RawClient.Get("/m", "a", ("connection", "keep-alive")),
            "keep-alive" => H2RawClient.Get("/m", "a", ("keep-alive", "5")),
            "transfer-encoding" => H2RawClient.Get("/m", "a", ("transfer-encoding", "chunked")),
            "upgrade" => H2RawClient.Get("/m", "a", ("upgrade", "websocket")),
            "proxy-connection" => H2RawClient.Get("/m", "a", ("proxy-connection", "close")),
            "te-gzip" => H2RawClient.Get("/m", "a", ("te", "gzip")),
            "missing-path" => [(":method", "GET"), (":scheme", "http"), (":authority", "a")],
            "missing-method" => [(":scheme", "http"), (":authority", "a"), (":path", "/m")],
            "missing-scheme" => [(":method", "GET"), (":authority", "a"), (":path", "/m")],
            "empty-path" => [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "")],
            "duplicate-path" => [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/m"), (":path", "/m")],
            "pseudo-after-regular" => [(":method", "GET"), (":scheme", "http"), ("x-a", "1"), (":authority", "a"), (":path", "/m")],
            "unknown-pseudo" => [.. H2RawClient.Get("/m"), (":foo", "bar")],
            "response-pseudo" => [.. H2RawClient.Get("/m"), (":status", "200")],
            "value-with-newline" => H2RawClient.Get("/m", "a", ("x-a", "1\n2")),
            "value-with-leading-space" => H2RawClient.Get("/m", "a", ("x-a", " 1")),
            "host-differs-from-authority" => H2RawClient.Get("/m", "a.test", ("host", "b.test")),
            "content-length-without-data" => H2RawClient.Get("/m", "a", ("content-length", "5")),
            "name-with-space" => H2RawClient.Get("/m", "a", ("x a", "1")),
            "name-with-colon" => H2RawClient.Get("/m", "a", ("x:a", "1")),
            "name-with-high-octet" => H2RawClient.Get("/m", "a", ("x-\u00e9", "1")),
            "name-with-control" => H2RawClient.Get("/m", "a", ("x-\u0001", "1")),
            "value-with-nul" => H2RawClient.Get("/m", "a", ("x-a", "1\02")),
            "value-with-cr" => H2RawClient.Get("/m", "a", ("x-a", "1\r2")),
            "value-with-trailing-tab" => H2RawClient.Get("/m", "a", ("x-a", "1\t")),
            "duplicate-method" => [(":method", "GET"), (":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/m")],
            "duplicate-scheme" => [(":method", "GET"), (":scheme", "http"), (":scheme", "http"), (":authority", "a"), (":path", "/m")],
            "duplicate-authority" => [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":authority", "a"), (":path", "/m")],
            "missing-all-pseudo" => [("x-a", "1")],
            "connect-with-path" => [(":method", "CONNECT"), (":scheme", "http"), (":authority", "a:443"), (":path", "/m")],
            "connect-without-authority" => [(":method", "CONNECT")],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        int before = fixture.Backend.Requests;
        using var client = Connect();
        client.SendHeaders(1, fields);
        client.ExpectReset(1, Http2ErrorCode.ProtocolError);
        AssertStillServes(client, 3);
        Assert.Equal(before + 1, fixture.Backend.Requests);
    }

    [Fact]
    public void Te_trailers_is_allowed()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/te", "a", ("te", "trailers")));
        Assert.Equal(200, client.ReadResponse(1).Status);
    }

    // Section 8.1.1: DATA that does not add up to Content-Length.
    [Theory]
    [InlineData(3, "abcd")]
    [InlineData(5, "abcd")]
    public void Content_length_that_the_data_does_not_match_is_a_stream_error(int declared, string data)
    {
        using var client = Connect();
        client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/cl-mismatch"), ("content-length", declared.ToString(System.Globalization.CultureInfo.InvariantCulture))], endStream: false);
        client.SendData(1, Encoding.ASCII.GetBytes(data), endStream: true);
        client.ExpectReset(1, Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public void First_frame_other_than_settings_is_a_protocol_error()
    {
        using var client = H2RawClient.Connect(fixture.Port, handshake: false);
        client.Send(Http2Protocol.ClientPreface.ToArray());
        client.SendFrame(Http2FrameType.Ping, 0, 0, new byte[8]);
        client.ExpectGoAway(Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public void Http1_still_works_on_the_same_port()
    {
        using var connection = RawConnection.Open(fixture.Port);
        connection.Send("GET /h1 HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("GET /h1", connection.ReadResponse().BodyText);
    }

    // Connection errors (section 5.4.1), one per rule.
    [Theory]
    [InlineData("data-on-stream-0", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("data-on-idle-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("headers-on-even-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("headers-on-lower-unopened-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("continuation-without-headers", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("frame-inside-header-block", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("continuation-on-other-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("frame-too-large", (uint)Http2ErrorCode.FrameSizeError)]
    [InlineData("settings-bad-length", (uint)Http2ErrorCode.FrameSizeError)]
    [InlineData("settings-ack-with-payload", (uint)Http2ErrorCode.FrameSizeError)]
    [InlineData("settings-on-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("settings-enable-push-2", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("settings-window-too-large", (uint)Http2ErrorCode.FlowControlError)]
    [InlineData("settings-frame-size-too-small", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("settings-frame-size-too-large", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("ping-bad-length", (uint)Http2ErrorCode.FrameSizeError)]
    [InlineData("ping-on-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("window-update-zero-on-connection", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("window-update-bad-length", (uint)Http2ErrorCode.FrameSizeError)]
    [InlineData("window-update-connection-overflow", (uint)Http2ErrorCode.FlowControlError)]
    [InlineData("window-update-idle-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("rst-on-idle-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("rst-on-stream-0", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("rst-bad-length", (uint)Http2ErrorCode.FrameSizeError)]
    [InlineData("push-promise", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("goaway-on-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("hpack-invalid-index", (uint)Http2ErrorCode.CompressionError)]
    [InlineData("hpack-table-size-update-too-large", (uint)Http2ErrorCode.CompressionError)]
    [InlineData("padding-too-long", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("data-padding-too-long", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("headers-on-stream-0", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("continuation-on-stream-0", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("priority-on-stream-0", (uint)Http2ErrorCode.ProtocolError)]
    public void Connection_error(string kind, uint code)
    {
        using var client = Connect();
        var get = H2RawClient.EncodeStateless(H2RawClient.Get("/c"));
        switch (kind)
        {
            case "data-on-stream-0":
                client.SendData(0, "x"u8.ToArray(), endStream: true);
                break;
            case "data-on-idle-stream":
                client.SendData(5, "x"u8.ToArray(), endStream: true);
                break;
            case "headers-on-even-stream":
                client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 2, get);
                break;
            case "headers-on-lower-unopened-stream":
                client.SendHeaders(5, H2RawClient.Get("/c"));
                client.ReadResponse(5);
                client.SendHeaders(3, H2RawClient.Get("/c"));
                break;
            case "continuation-without-headers":
                client.SendFrame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, get);
                break;
            case "frame-inside-header-block":
                client.SendFrame(Http2FrameType.Headers, Http2Flags.EndStream, 1, get[..3]);
                client.SendFrame(Http2FrameType.Ping, 0, 0, new byte[8]);
                break;
            case "continuation-on-other-stream":
                client.SendFrame(Http2FrameType.Headers, Http2Flags.EndStream, 1, get[..3]);
                client.SendFrame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 3, get[3..]);
                break;
            case "frame-too-large":
                client.SendFrame(Http2FrameType.Data, 0, 1, new byte[16_385]);
                break;
            case "settings-bad-length":
                client.SendFrame(Http2FrameType.Settings, 0, 0, new byte[5]);
                break;
            case "settings-ack-with-payload":
                client.SendFrame(Http2FrameType.Settings, Http2Flags.Ack, 0, new byte[6]);
                break;
            case "settings-on-stream":
                client.SendFrame(Http2FrameType.Settings, 0, 1, []);
                break;
            case "settings-enable-push-2":
                client.SendFrame(Http2FrameType.Settings, 0, 0, Setting(Http2SettingsParameter.EnablePush, 2));
                break;
            case "settings-window-too-large":
                client.SendFrame(Http2FrameType.Settings, 0, 0, Setting(Http2SettingsParameter.InitialWindowSize, 0x8000_0000));
                break;
            case "settings-frame-size-too-small":
                client.SendFrame(Http2FrameType.Settings, 0, 0, Setting(Http2SettingsParameter.MaxFrameSize, 16_383));
                break;
            case "settings-frame-size-too-large":
                client.SendFrame(Http2FrameType.Settings, 0, 0, Setting(Http2SettingsParameter.MaxFrameSize, 16_777_216));
                break;
            case "ping-bad-length":
                client.SendFrame(Http2FrameType.Ping, 0, 0, new byte[7]);
                break;
            case "ping-on-stream":
                client.SendFrame(Http2FrameType.Ping, 0, 1, new byte[8]);
                break;
            case "window-update-zero-on-connection":
                client.SendWindowUpdate(0, 0);
                break;
            case "window-update-bad-length":
                client.SendFrame(Http2FrameType.WindowUpdate, 0, 0, new byte[3]);
                break;
            case "window-update-connection-overflow":
                client.SendWindowUpdate(0, int.MaxValue);
                break;
            case "window-update-idle-stream":
                client.SendWindowUpdate(7, 10);
                break;
            case "rst-on-idle-stream":
                client.SendRst(7, Http2ErrorCode.Cancel);
                break;
            case "rst-on-stream-0":
                client.SendRst(0, Http2ErrorCode.Cancel);
                break;
            case "rst-bad-length":
                client.SendFrame(Http2FrameType.RstStream, 0, 1, new byte[3]);
                break;
            case "push-promise":
                client.SendFrame(Http2FrameType.PushPromise, Http2Flags.EndHeaders, 1, [0, 0, 0, 2, .. get]);
                break;
            case "goaway-on-stream":
                client.SendFrame(Http2FrameType.GoAway, 0, 1, new byte[8]);
                break;
            case "hpack-invalid-index":
                client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, [0xFF, 0x7F]);
                break;
            case "hpack-table-size-update-too-large":
                // 001xxxxx: a dynamic table size update to 8192, above the 4096 we allow.
                client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, [0x3F, 0xE1, 0x3F, .. get]);
                break;
            case "data-padding-too-long":
                client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/slow")], endStream: false);
                client.SendFrame(Http2FrameType.Data, Http2Flags.Padded, 1, [5, 1, 2]);
                break;
            case "headers-on-stream-0":
                client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 0, get);
                break;
            case "continuation-on-stream-0":
                client.SendFrame(Http2FrameType.Headers, Http2Flags.EndStream, 1, get[..3]);
                client.SendFrame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 0, get[3..]);
                break;
            case "priority-on-stream-0":
                client.SendFrame(Http2FrameType.Priority, 0, 0, [0, 0, 0, 1, 16]);
                break;
            case "padding-too-long":
                client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream | Http2Flags.Padded, 1, [(byte)(get.Length + 1), .. get]);
                break;
        }

        client.ExpectGoAway((Http2ErrorCode)code);
    }

    // Stream errors (section 5.4.2): the stream is reset, the connection goes on.
    [Theory]
    [InlineData("window-update-zero-on-stream", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("window-update-stream-overflow", (uint)Http2ErrorCode.FlowControlError)]
    [InlineData("priority-bad-length", (uint)Http2ErrorCode.FrameSizeError)]
    [InlineData("priority-self-dependency", (uint)Http2ErrorCode.ProtocolError)]
    [InlineData("data-after-end-stream", (uint)Http2ErrorCode.StreamClosed)]
    [InlineData("headers-after-end-stream", (uint)Http2ErrorCode.StreamClosed)]
    public void Stream_error(string kind, uint code)
    {
        using var client = Connect();
        switch (kind)
        {
            case "window-update-zero-on-stream":
                client.SendHeaders(1, H2RawClient.Get("/slow"));
                client.SendWindowUpdate(1, 0);
                break;
            case "window-update-stream-overflow":
                client.SendHeaders(1, H2RawClient.Get("/slow"));
                client.SendWindowUpdate(1, int.MaxValue);
                break;
            case "priority-bad-length":
                client.SendFrame(Http2FrameType.Priority, 0, 1, new byte[4]);
                break;
            case "priority-self-dependency":
                client.SendFrame(Http2FrameType.Priority, 0, 1, [0, 0, 0, 1, 16]);
                break;
            case "data-after-end-stream":
                client.SendHeaders(1, H2RawClient.Get("/slow"));
                client.SendData(1, "x"u8.ToArray(), endStream: true);
                break;
            case "headers-after-end-stream":
                client.SendHeaders(1, H2RawClient.Get("/slow"));
                client.SendHeaders(1, [("x-late", "1")]);
                break;
        }

        client.ExpectReset(1, (Http2ErrorCode)code);
        AssertStillServes(client, 3);
    }

    [Fact]
    public void Settings_are_acknowledged()
    {
        using var client = Connect();
        client.SendSettings((Http2SettingsParameter.HeaderTableSize, 0), ((Http2SettingsParameter)0x99, 1));
        var ack = client.ReadUntil(f => f.Type == Http2FrameType.Settings && f.Has(Http2Flags.Ack));
        Assert.NotNull(ack);
        Assert.Empty(ack!.Payload);
        // A table size of 0: the gateway's encoder stops indexing (RFC 7541 section 4.2) and still answers.
        AssertStillServes(client, 1);
        AssertStillServes(client, 3);
    }

    [Fact]
    public void Ping_is_answered_with_the_same_opaque_data()
    {
        using var client = Connect();
        client.SendFrame(Http2FrameType.Ping, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
        var ack = client.ReadUntil(f => f.Type == Http2FrameType.Ping);
        Assert.True(ack!.Has(Http2Flags.Ack));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, ack.Payload);
    }

    [Fact]
    public void Unknown_frame_types_and_priority_frames_are_ignored()
    {
        using var client = Connect();
        client.SendFrame((Http2FrameType)0xEE, (Http2Flags)0xFF, 0, [1, 2, 3]);
        client.SendFrame(Http2FrameType.Priority, 0, 9, [0, 0, 0, 0, 16]);
        AssertStillServes(client, 1);
    }

    [Fact]
    public void Padded_data_and_headers_are_accepted()
    {
        using var client = Connect();
        var block = client.Encode([(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/padded")]);
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.Padded, 1, [3, .. block, 0, 0, 0]);
        client.SendFrame(Http2FrameType.Data, Http2Flags.EndStream | Http2Flags.Padded, 1, [2, (byte)'h', (byte)'i', 0, 0]);
        Assert.Equal("POST /padded", client.ReadResponse(1).BodyText);
        Assert.Equal("hi", Encoding.ASCII.GetString(fixture.Backend.Seen.Last(r => r.PathAndQuery == "/padded").Body));
    }

    [Fact]
    public void Header_block_split_over_continuation_frames_is_one_request()
    {
        using var client = Connect();
        var block = client.Encode(H2RawClient.Get("/continued", "a", ("x-long", new string('v', 3000))));
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndStream, 1, block[..10]);
        client.SendFrame(Http2FrameType.Continuation, 0, 1, block[10..20]);
        client.SendFrame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, block[20..]);
        Assert.Equal("GET /continued", client.ReadResponse(1).BodyText);
    }

    // Section 6.9: DATA never exceeds the client's windows; the rest waits for WINDOW_UPDATE.
    [Fact]
    public void Response_data_respects_a_small_initial_window_and_resumes_on_window_update()
    {
        using var client = H2RawClient.Connect(fixture.Port, handshake: false);
        client.Send(Http2Protocol.ClientPreface.ToArray());
        client.SendSettings((Http2SettingsParameter.InitialWindowSize, 1000));
        client.SendFrame(Http2FrameType.Settings, Http2Flags.Ack, 0, []);
        client.SendWindowUpdate(0, 1 << 30);
        client.AutoWindowUpdate = false;
        client.SendHeaders(1, H2RawClient.Get("/big"));
        int received = 0;
        while (received < 1000)
        {
            var frame = client.ReadUntil(f => f.Type == Http2FrameType.Data && f.StreamId == 1)!;
            received += frame.Payload.Length;
        }

        Assert.Equal(1000, received);
        // Nothing more arrives until the window opens.
        client.SendFrame(Http2FrameType.Ping, 0, 0, new byte[8]);
        var next = client.ReadUntil(f => f.Type is Http2FrameType.Data or Http2FrameType.Ping);
        Assert.Equal(Http2FrameType.Ping, next!.Type);

        client.SendWindowUpdate(1, 300_000);
        var rest = new MemoryStream();
        while (received < H2GatewayFixture.BigBody.Length)
        {
            var frame = client.ReadUntil(f => f.Type == Http2FrameType.Data && f.StreamId == 1)!;
            received += frame.Payload.Length;
            if (frame.Has(Http2Flags.EndStream))
            {
                break;
            }
        }

        Assert.Equal(H2GatewayFixture.BigBody.Length, received);
    }

    [Fact]
    public void Initial_window_size_change_applies_to_open_streams()
    {
        using var client = H2RawClient.Connect(fixture.Port, handshake: false);
        client.Send(Http2Protocol.ClientPreface.ToArray());
        client.SendSettings((Http2SettingsParameter.InitialWindowSize, 0));
        client.SendFrame(Http2FrameType.Settings, Http2Flags.Ack, 0, []);
        client.SendWindowUpdate(0, 1 << 30);
        client.AutoWindowUpdate = false;
        client.SendHeaders(1, H2RawClient.Get("/big"));
        var headers = client.ReadUntil(f => f.Type == Http2FrameType.Headers && f.StreamId == 1);
        Assert.NotNull(headers);
        // Section 6.9.2: raising SETTINGS_INITIAL_WINDOW_SIZE opens the stream's window by the difference.
        client.SendSettings((Http2SettingsParameter.InitialWindowSize, 300_000));
        int received = 0;
        while (received < H2GatewayFixture.BigBody.Length)
        {
            var frame = client.ReadUntil(f => f.Type == Http2FrameType.Data && f.StreamId == 1)!;
            received += frame.Payload.Length;
        }

        Assert.Equal(H2GatewayFixture.BigBody.Length, received);
    }

    // Section 5.1.2: past SETTINGS_MAX_CONCURRENT_STREAMS, REFUSED_STREAM.
    [Fact]
    public void Streams_past_the_concurrency_limit_are_refused()
    {
        using var client = Connect();
        for (int id = 1; id <= 9; id += 2)
        {
            client.SendHeaders(id, H2RawClient.Get("/slow"));
        }

        client.ExpectReset(9, Http2ErrorCode.RefusedStream);
        Assert.Equal(200, client.ReadResponse(1).Status);
    }

    [Fact]
    public void Header_list_past_the_limit_is_431_and_the_connection_goes_on()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/big-head", "a", ("x-a", new string('a', 5000)), ("x-b", new string('b', 5000))));
        var response = client.ReadResponse(1);
        Assert.Equal(431, response.Status);
        Assert.Equal("application/problem+json", response.Header("content-type"));
        AssertStillServes(client, 3);
    }

    [Fact]
    public void Client_reset_stream_is_forgotten_and_the_connection_goes_on()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/slow"));
        client.SendRst(1, Http2ErrorCode.Cancel);
        // Frames on a stream the client reset are not errors the client hears about.
        client.SendWindowUpdate(1, 100);
        AssertStillServes(client, 3);
    }

    [Fact]
    public void Goaway_from_the_client_ends_the_connection_after_its_streams()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/slow"));
        client.SendFrame(Http2FrameType.GoAway, 0, 0, [0, 0, 0, 1, 0, 0, 0, 0]);
        Assert.Equal(200, client.ReadResponse(1).Status);
        Assert.True(client.IsClosedByPeer());
    }

    [Fact]
    public void Idle_connection_is_closed_with_goaway_no_error()
    {
        using var client = Connect();
        var goAway = client.ReadUntil(f => f.Type == Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.NoError, goAway!.ErrorCode);
        Assert.True(client.IsClosedByPeer());
    }

    [Fact]
    public void Header_block_that_never_ends_is_cut_after_the_request_head_timeout()
    {
        using var client = Connect();
        var get = H2RawClient.EncodeStateless(H2RawClient.Get("/never"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndStream, 1, get[..4]);
        var goAway = client.ReadUntil(f => f.Type == Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.ProtocolError, goAway!.ErrorCode);
        Assert.InRange(clock.ElapsedMilliseconds, 1500, 5000);
    }

    [Fact]
    public void Invalid_preface_is_not_http2()
    {
        using var client = H2RawClient.Connect(fixture.Port, handshake: false);
        client.Send("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"u8.ToArray());
        Assert.True(client.IsClosedByPeer());
    }

    // Section 6.5.2: the client's SETTINGS_MAX_FRAME_SIZE lets the gateway send larger frames.
    [Fact]
    public void Client_max_frame_size_is_used_for_data()
    {
        using var client = Connect();
        client.SendSettings((Http2SettingsParameter.MaxFrameSize, 65_536), (Http2SettingsParameter.InitialWindowSize, 1 << 20));
        client.SendWindowUpdate(0, 1 << 20);
        client.ReadUntil(f => f.Type == Http2FrameType.Settings && f.Has(Http2Flags.Ack));
        client.SendHeaders(1, H2RawClient.Get("/big"));
        int largest = 0;
        int received = 0;
        while (received < H2GatewayFixture.BigBody.Length)
        {
            var frame = client.ReadUntil(f => f.Type == Http2FrameType.Data && f.StreamId == 1)!;
            largest = Math.Max(largest, frame.Payload.Length);
            received += frame.Payload.Length;
        }

        // Frames follow the upstream's reads, so their sizes vary; some pass the default 16 KiB.
        Assert.InRange(largest, Http2Protocol.DefaultMaxFrameSize + 1, 65_536);
    }

    // Section 5.1: HEADERS on a stream that ended (both sides closed) is a connection error STREAM_CLOSED.
    [Fact]
    public void Headers_on_a_closed_stream_is_a_connection_error_stream_closed()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/done"));
        Assert.Equal(200, client.ReadResponse(1).Status);
        client.SendHeaders(1, H2RawClient.Get("/again"));
        client.ExpectGoAway(Http2ErrorCode.StreamClosed);
    }

    // Section 8.1: a client's DATA after the gateway answered and reset its stream (NO_ERROR) is ignored.
    [Fact]
    public void Data_after_an_early_answer_is_ignored()
    {
        using var client = Connect();
        client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/early"), ("content-length", "2000000")], endStream: false);
        var response = client.ReadResponse(1);
        Assert.Equal(413, response.Status);
        client.SendData(1, new byte[1000], endStream: false);
        AssertStillServes(client, 3);
    }
}
