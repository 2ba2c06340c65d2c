"""Import every domain's tables so ``Base.metadata`` is complete (for Alembic and tests)."""

from stcoord.audit import models as audit_models
from stcoord.auth import models as auth_models
from stcoord.budget import models as budget_models
from stcoord.db.base import Base
from stcoord.institutions import models as institution_models
from stcoord.plans import models as plan_models

metadata = Base.metadata
__all__ = [
    "audit_models",
    "auth_models",
    "budget_models",
    "institution_models",
    "metadata",
    "plan_models",
]
