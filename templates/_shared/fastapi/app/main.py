{{ ("HTTP API of " + startup.displayName + ".") | dump }}

import importlib
import pkgutil
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Response, status
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel

from app import routes
from app.db import database_reachable
from app.settings import Settings, get_settings

app = FastAPI(title=get_settings().app_name)
app.add_middleware(
    CORSMiddleware,
    allow_origins=get_settings().cors_origins,
    allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    allow_headers=["*"],
)

SettingsDep = Annotated[Settings, Depends(get_settings)]


class Health(BaseModel):
    status: str
    service: str


class Startup(BaseModel):
    name: str
    industry: str
    category: str
    idea: str


@app.get("/health")
def health(settings: SettingsDep) -> Health:
    """Liveness: the process answers. Does not touch the database."""
    return Health(status="ok", service=settings.app_name)


@app.get("/ready")
def ready(settings: SettingsDep, response: Response) -> Health:
    """Readiness: the database answers too."""
    if not database_reachable(settings):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="database unreachable", service=settings.app_name)
    return Health(status="ok", service=settings.app_name)


@app.get("/api/startup")
def startup(settings: SettingsDep) -> Startup:
    return Startup(
        name=settings.app_name,
        industry={{ startup.industry | dump }},
        category={{ startup.category | dump }},
        idea={{ startup.idea | dump }},
    )


# Every module of app/routes that defines `router` is mounted, in name order, after the
# routes above: a feature adds its own module and edits no shared file.
for module in pkgutil.iter_modules(routes.__path__):
    router = getattr(importlib.import_module(f"{routes.__name__}.{module.name}"), "router", None)
    if isinstance(router, APIRouter):
        app.include_router(router)
