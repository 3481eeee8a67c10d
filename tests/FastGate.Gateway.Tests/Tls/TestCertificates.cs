using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FastGate.Gateway.Tests.Tls;

/// <summary>
/// Certificates made for a test and written as PEM files in a fresh directory, the way an operator
/// hands them to the route file. Deleted with the directory on dispose.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private TestCertificates(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>The leaf certificate's PEM file (leaf first, then the intermediate when there is one).</summary>
    public string CertificatePath => Path.Combine(Directory, "gateway.pem");

    public string KeyPath => Path.Combine(Directory, "gateway.key");

    /// <summary>The root that issued the chain, to trust in clients (curl --cacert, SslStream callbacks).</summary>
    public string RootPath => Path.Combine(Directory, "root.pem");

    public required X509Certificate2 Leaf { get; init; }

    public required X509Certificate2 Root { get; init; }

    /// <summary>
    /// A root CA, an intermediate CA and a leaf for <c>localhost</c> and 127.0.0.1 signed by the
    /// intermediate; the certificate file holds the leaf and the intermediate, as servers send them.
    /// </summary>
    public static TestCertificates Create(string commonName = "localhost")
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("fastgate-tls-").FullName;
        var now = DateTimeOffset.UtcNow;

        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=FastGate Test Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var root = rootRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest("CN=FastGate Test Intermediate", intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var intermediate = intermediateRequest.Create(root, now.AddMinutes(-4), now.AddHours(23), [1, 2, 3, 4]);

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest($"CN={commonName}", leafKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(commonName);
        names.AddIpAddress(IPAddress.Loopback);
        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leafPublic = leafRequest.Create(intermediate.CopyWithPrivateKey(intermediateKey), now.AddMinutes(-3), now.AddHours(22), [5, 6, 7, 8]);
        var leaf = leafPublic.CopyWithPrivateKey(leafKey);

        var certificates = new TestCertificates(directory) { Leaf = leaf, Root = root };
        File.WriteAllText(certificates.CertificatePath, leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem() + "\n");
        File.WriteAllText(certificates.KeyPath, leafKey.ExportPkcs8PrivateKeyPem() + "\n");
        File.WriteAllText(certificates.RootPath, root.ExportCertificatePem() + "\n");
        return certificates;
    }

    /// <summary>
    /// What a client trusting only <see cref="Root"/> decides: the chain must build to the root, with
    /// intermediates taken only from what the server sent, and end at <see cref="Leaf"/>.
    /// </summary>
    public bool Trusts(X509Certificate? presented, X509Chain? presentedChain)
    {
        if (presented is null)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presentedChain is not null)
        {
            foreach (var element in presentedChain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        using var leaf = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        return chain.Build(leaf) && leaf.Thumbprint == Leaf.Thumbprint;
    }

    public void Dispose()
    {
        Leaf.Dispose();
        Root.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
