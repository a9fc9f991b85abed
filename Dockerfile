# syntax=docker/dockerfile:1
# Build: docker build -t jwtapi .
# Run:   docker run -p 8080:8080 -e Jwt__SigningKey="$(openssl rand -base64 32)" \
#          -e Jwt__RefreshSigningKey="$(openssl rand -base64 32)" -v jwtapi-data:/app/data jwtapi

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so the layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/JwtApi/JwtApi.csproj src/JwtApi/
RUN dotnet restore src/JwtApi/JwtApi.csproj
COPY src/JwtApi/ src/JwtApi/
# The same publish command .ci/run checks.
RUN dotnet publish src/JwtApi/JwtApi.csproj -c Release -o /app --no-restore -nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The data folder holds the SQLite database; it must be writable by the non-root user and outlive the container.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data
USER $APP_UID
# DOTNET_TC_CallCountingDelayMs=10: on one CPU the runtime waits 10 times its usual 100 ms of no new JIT work
# before optimizing hot methods, and under load that kept the service at half speed for 40-50 s after start;
# 10 makes it the usual 100 ms there (docs/PERFORMANCE.md, "Tiering on one core").
ENV ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS=8080 \
    Storage__DataDirectory=/app/data \
    DOTNET_TC_CallCountingDelayMs=10
EXPOSE 8080
VOLUME ["/app/data"]
# Ready = serving and the database answers. The probe is the service's own `health` command: the runtime
# image has no curl, and adding one would hand it to an intruder too.
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 CMD ["dotnet", "JwtApi.dll", "health"]
ENTRYPOINT ["dotnet", "JwtApi.dll"]
