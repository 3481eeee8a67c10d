using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using FastGate.FunctionalTests.Http2;
using FastGate.FunctionalTests.Infrastructure;
using FastGate.Gateway.Tests.Tls;

namespace FastGate.FunctionalTests.Tls;

/// <summary>HTTP/2 over TLS: ALPN picks the protocol per connection; real clients get the same answers as over HTTP/1.1.</summary>
public sealed class TlsHttp2Tests : IAsyncLifetime
{
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private TestBackend _backend = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([_backend]), tls: _certificates);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        _certificates.Dispose();
    }

    private Uri Url(string path) => new($"https://127.0.0.1:{_gateway.TlsPort}{path}");

    [Theory]
    [InlineData("h2,http/1.1", "h2")]
    [InlineData("http/1.1,h2", "h2")]
    [InlineData("http/1.1", "http/1.1")]
    [InlineData("", "")]
    public async Task Alpn_chooses_the_servers_preference_among_what_the_client_offers(string offered, string expected)
    {
        var protocols = offered.Length == 0 ? null : offered.Split(',').Select(p => new SslApplicationProtocol(p)).ToList();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _gateway.TlsPort);
        await using var tls = new SslStream(new NetworkStream(socket));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = protocols,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) => _certificates.Trusts(certificate, chain),
        });

        Assert.Equal(expected, tls.NegotiatedApplicationProtocol.ToString());
    }

    [Fact]
    public async Task HttpClient_over_h2_and_tls_gets_the_same_answer_as_over_http11_and_the_upstream_sees_https()
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, _) => _certificates.Trusts(certificate, chain);
        using var client = new HttpClient(handler);

        using var h2 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url("/same?q=1")) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact });
        using var h1 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url("/same?q=1")) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact });

        Assert.Equal(HttpVersion.Version20, h2.Version);
        Assert.Equal(HttpVersion.Version11, h1.Version);
        Assert.Equal(HttpStatusCode.OK, h2.StatusCode);
        Assert.Equal("GET /same?q=1", await h2.Content.ReadAsStringAsync());
        Assert.Equal(await h1.Content.ReadAsStringAsync(), await h2.Content.ReadAsStringAsync());
        Assert.All(_backend.Seen, seen => Assert.Equal("https", seen.Headers["X-Forwarded-Proto"]));
        Assert.Equal(2, _backend.Seen.Count);
    }

    [Fact]
    public async Task Curl_negotiates_h2_over_tls_and_verifies_the_chain()
    {
        var (exitCode, output) = await Http2ClientsTests.RunAsync("curl", "-sS", "--http2", "--cacert", _certificates.RootPath,
            "-w", " %{http_version} %{http_code}", Url("/curl?x=y").ToString());

        Assert.Equal(0, exitCode);
        Assert.Equal("GET /curl?x=y 2 200", output);
    }

    [Fact]
    public async Task Nghttp_over_tls_gets_the_body()
    {
        var (exitCode, output) = await Http2ClientsTests.RunAsync("nghttp", Url("/nghttp").ToString());

        Assert.Equal(0, exitCode);
        // nghttp prints the body, then warns that it did not verify the (test) certificate.
        Assert.StartsWith("GET /nghttp", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task H2load_over_tls_completes_every_request_with_2xx()
    {
        var (exitCode, output) = await Http2ClientsTests.RunAsync("h2load", "-n", "400", "-c", "4", "-m", "20", Url("/load").ToString());

        Assert.Equal(0, exitCode);
        Assert.Contains("requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored, 0 timeout", output, StringComparison.Ordinal);
        Assert.Contains("status codes: 400 2xx, 0 3xx, 0 4xx, 0 5xx", output, StringComparison.Ordinal);
        Assert.Contains("Application protocol: h2", output, StringComparison.Ordinal);
    }
}
