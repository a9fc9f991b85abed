using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("JwtApi.Tests.Browser.BrowserTestsFirst", "JwtApi.Tests")]

namespace JwtApi.Tests.Browser;

/// <summary>
/// The browser collection is the suite's longest, one test after another: started first it runs beside the rest
/// instead of after it, where xunit's otherwise random order may put it. The rest keep xunit's default order.
/// </summary>
public sealed class BrowserTestsFirst : ITestCollectionOrderer
{
    private readonly DefaultTestCollectionOrderer _default = new();

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        _default.OrderTestCollections(testCollections).OrderBy(c => c.DisplayName == BrowserCollection.Name ? 0 : 1);
}
