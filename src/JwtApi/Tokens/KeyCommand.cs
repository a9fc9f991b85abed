namespace JwtApi.Tokens;

/// <summary>
/// <c>dotnet run --project src/JwtApi -- keys generate --alg RS256|ES256|HS256</c>: prints new key material
/// and its kid, in the forms Jwt:SigningKeys takes. Nothing is written to disk and nothing else starts.
/// </summary>
public static class KeyCommand
{
    public static bool Matches(string[] args) => args is ["keys", ..];

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args is not ["keys", "generate", "--alg", var algorithm] || !SigningAlgorithms.Supported.Contains(algorithm))
        {
            error.WriteLine("usage: keys generate --alg RS256|ES256|HS256");
            return 2;
        }
        if (algorithm == SigningAlgorithms.HS256)
        {
            var secret = KeyGenerator.HmacSecret();
            SigningKeys.TryHmac(secret, "secret", "hs-", out var hmac, out _);
            output.WriteLine($"# kid: {hmac!.KeyId}");
            output.WriteLine("# Jwt:SigningKeys:N:Algorithm = HS256, Jwt:SigningKeys:N:Secret =");
            output.WriteLine(secret);
            return 0;
        }
        var pem = KeyGenerator.PrivateKeyPem(algorithm);
        SigningKeys.TryAsymmetric(algorithm, pem, "generated key", requirePrivate: true, out var key, out _);
        output.WriteLine($"# kid: {key!.KeyId}");
        output.WriteLine($"# Jwt:SigningKeys:N:Algorithm = {algorithm}; save the PEM below to a file for PemPath (chmod 600), or pass it as Pem");
        output.Write(pem);
        if (!pem.EndsWith('\n'))
        {
            output.WriteLine();
        }
        return 0;
    }
}
