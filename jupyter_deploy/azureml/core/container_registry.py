"""``azureml.core.container_registry``: a registry's address and login, password masked."""

from __future__ import annotations

from jupyter_deploy.spec.environment import RegistryCredentials


class ContainerRegistry:
    """Address, username and password of a registry (mutable, as the SDK's; never printed)."""

    def __init__(
        self, address: str | None = None, username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.address = address
        self.username = username
        self.password = password

    def __repr__(self) -> str:
        masked = "'********'" if self.password else "None"
        return (f"ContainerRegistry(address={self.address!r}, username={self.username!r}, "
                f"password={masked})")

    def to_native(self) -> RegistryCredentials | None:
        """The frozen credentials, or None when nothing is set."""
        if not (self.address or self.username or self.password):
            return None
        return RegistryCredentials(self.address, self.username, self.password)

    @classmethod
    def of(cls, credentials: RegistryCredentials | None) -> ContainerRegistry:
        """A mutable copy of native credentials."""
        if credentials is None:
            return cls()
        return cls(credentials.address, credentials.username, credentials.password)
