"""Which ``Target`` serves a stage: the one place that knows the targets by name.

Each target is imported when a stage asks for it, so choosing the local target never loads
the AWS one (nor boto3, which it imports only when it first calls AWS).
"""

from __future__ import annotations

from strum.deploy.target import Target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.config import ProjectConfig
    from strum.platform.home import Home


def target_for(config: ProjectConfig, home: Home | None = None) -> Target:
    """The target of ``config``'s stage; ``home`` (default: ``$STRUM_HOME``) holds the build
    cache and, for the local target, the platform's state."""
    if home is None:
        from strum.platform.home import Home, default_home

        home = Home(default_home())
    if config.target == "aws":
        from strum.aws.target import AwsTarget

        return AwsTarget(config, home)
    from strum.deploy.local.target import LocalTarget

    return LocalTarget(config, home)
