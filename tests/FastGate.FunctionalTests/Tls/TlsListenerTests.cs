using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Tests.Tls;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastGate.FunctionalTests.Tls;

/// <summary>[[server.tls]] listeners: Kestrel terminates TLS, the gateway's own connection handler serves what is inside.</summary>
public sealed class TlsListenerTests : IAsyncLifetime
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

    [Fact]
    public async Task HttpClient_over_tls_gets_the_upstream_answer_and_the_upstream_sees_https()
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, _) => Trusted(certificate, chain);
        using var client = new HttpClient(handler);

        using var response = await client.GetAsync(new Uri($"https://127.0.0.1:{_gateway.TlsPort}/orders/7?x=1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Version(1, 1), response.Version);
        Assert.Equal("GET /orders/7?x=1", await response.Content.ReadAsStringAsync());
        var seen = Assert.Single(_backend.Seen);
        Assert.Equal("https", seen.Headers["X-Forwarded-Proto"]);
        Assert.Equal("127.0.0.1", seen.Headers["X-Forwarded-For"]);
    }

    [Fact]
    public async Task Cleartext_listener_keeps_serving_beside_the_tls_one_and_says_http()
    {
        using var client = _gateway.CreateClient();

        Assert.Equal("GET /plain", await client.GetStringAsync(new Uri("/plain", UriKind.Relative)));
        Assert.Equal("http", Assert.Single(_backend.Seen).Headers["X-Forwarded-Proto"]);
    }

    [Fact]
    public async Task Curl_verifies_the_chain_from_the_root_alone_so_the_intermediate_is_sent()
    {
        var (exitCode, output) = await RunAsync("curl", $"-sS --cacert {_certificates.RootPath} -w \" %{{http_code}} %{{ssl_verify_result}}\" https://127.0.0.1:{_gateway.TlsPort}/curl");

        Assert.Equal(0, exitCode);
        Assert.Equal("GET /curl 200 0", output);
    }

    [Fact]
    public async Task Alpn_http11_is_negotiated_and_answered_byte_for_byte()
    {
        await using var tls = await ConnectAsync([SslApplicationProtocol.Http11]);
        Assert.Equal(SslApplicationProtocol.Http11, tls.NegotiatedApplicationProtocol);
        Assert.True(tls.SslProtocol is SslProtocols.Tls12 or SslProtocols.Tls13);

        await tls.WriteAsync("GET /raw HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"u8.ToArray());
        var answer = Encoding.Latin1.GetString(await ReadToEndAsync(tls));

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n8\r\nGET /raw\r\n0\r\n\r\n", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_request_inside_tls_is_refused_like_in_cleartext()
    {
        await using var tls = await ConnectAsync([SslApplicationProtocol.Http11]);

        await tls.WriteAsync("GET /x HTTP/1.1\r\nHost: gw\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray());
        var answer = Encoding.Latin1.GetString(await ReadToEndAsync(tls));

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", answer, StringComparison.Ordinal);
        Assert.Equal(0, _backend.Requests);
    }

    [Fact]
    public void Cleartext_http_sent_to_the_tls_port_is_closed_without_reaching_the_upstream()
    {
        using var raw = RawConnection.Open(_gateway.TlsPort);
        raw.Send("GET / HTTP/1.1\r\nHost: gw\r\n\r\n");

        Assert.True(raw.IsClosedByPeer());
        Assert.Equal(0, _backend.Connections);
    }

    [Fact]
    public async Task Reload_with_a_renewed_certificate_serves_it_to_new_connections_and_keeps_open_ones()
    {
        await using var before = await ConnectAsync([SslApplicationProtocol.Http11]);
        using var renewed = TestCertificates.Create();
        var model = GatewayConfigLoader.LoadText($"""
            [server]
            listen = ["127.0.0.1:{_gateway.Port}"]
            [[server.tls]]
            listen = "127.0.0.1:{_gateway.TlsPort}"
            certificate = "{renewed.CertificatePath}"
            key = "{renewed.KeyPath}"

            {TestGateway.ProxyRoutes([_backend])}
            """, "reload.toml").Model!;
        _gateway.Host.Runtime.Apply(model, await PolicySet.BuildAsync(model, NullLogger.Instance));

        // Only the renewed chain is trusted now: the handshake fails if the old certificate is served.
        await using var after = await ConnectAsync([SslApplicationProtocol.Http11], (_, certificate, chain, _) => renewed.Trusts(certificate, chain));
        Assert.Equal(renewed.Leaf.Thumbprint, X509CertificateLoader.LoadCertificate(after.RemoteCertificate!.GetRawCertData()).Thumbprint);

        // The connection opened before the reload still serves requests.
        await before.WriteAsync("GET /old HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"u8.ToArray());
        Assert.EndsWith("\r\n\r\n8\r\nGET /old\r\n0\r\n\r\n", Encoding.Latin1.GetString(await ReadToEndAsync(before)), StringComparison.Ordinal);
    }

    private bool Trusted(X509Certificate? certificate, X509Chain? presentedChain) => _certificates.Trusts(certificate, presentedChain);

    private async Task<SslStream> ConnectAsync(List<SslApplicationProtocol> protocols, RemoteCertificateValidationCallback? validate = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _gateway.TlsPort);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = protocols,
            RemoteCertificateValidationCallback = validate ?? ((_, certificate, chain, _) => Trusted(certificate, chain)),
        });
        return tls;
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, timeout.Token);
        return buffer.ToArray();
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + error);
    }
}
