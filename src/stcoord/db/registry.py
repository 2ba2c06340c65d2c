"""Import every domain's tables so ``Base.metadata`` is complete (for Alembic and tests)."""

from stcoord.advisory import models as advisory_models
from stcoord.audit import models as audit_models
from stcoord.auth import models as auth_models
from stcoord.budget import models as budget_models
from stcoord.consultation import models as consultation_models
from stcoord.db.base import Base
from stcoord.institutions import models as institution_models
from stcoord.plans import models as plan_models
from stcoord.portfolio import models as portfolio_models

metadata = Base.metadata
__all__ = [
    "advisory_models",
    "audit_models",
    "auth_models",
    "budget_models",
    "consultation_models",
    "institution_models",
    "metadata",
    "plan_models",
    "portfolio_models",
]
