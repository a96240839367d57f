"""The support console: one static page (service/console/) that the service serves itself, a
client of the same public API as any other, and the servable's plots for its Model view.

No build step and nothing from another host: the files ship in the package, and the page's
Content-Security-Policy lets it load nothing but them and talk to nothing but this service.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from service.deps import SettingsDep

CONSOLE_DIR = Path(__file__).parent / "console"
# The plots faq-train writes beside the servable; nothing else of its directory is served.
PLOTS = ("score_distribution", "reliability_diagram", "training_curves", "encoder_curves")
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

router = APIRouter()


def available_plots(servable_dir: Path) -> list[str]:
    """The plots of PLOTS that the servable's directory holds."""
    return [name for name in PLOTS if (servable_dir / f"{name}.png").is_file()]


@router.get("/", include_in_schema=False)
async def console() -> FileResponse:
    """The console's page (HTML); its views call the JSON API."""
    return FileResponse(
        CONSOLE_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


# Out of the OpenAPI schema, like the page itself: it serves the Model view's images, and
# `/manifest` lists the plots there are. (A free-form path parameter also leaves a schema-driven
# fuzzer no invalid value to send.)
@router.get("/model/plots/{name}.png", include_in_schema=False)
async def model_plot(name: str, settings: SettingsDep) -> FileResponse:
    """A plot faq-train saved with the servable: `score_distribution`, `reliability_diagram`,
    `training_curves` or `encoder_curves` (each only when that training wrote it); 404 for
    anything else."""
    path = settings.model_path / f"{name}.png"
    if name not in PLOTS or not path.is_file():
        raise HTTPException(
            status_code=404,
            detail=f"the servable has no plot {name!r} (plots: {', '.join(PLOTS)})",
        )
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-cache"})


def install_console(app: FastAPI) -> None:
    """The page at `/`, its scripts and style sheet under `/console/`, the plots' route."""
    # The views are ES modules, which browsers run only when served as JavaScript; Python's own
    # table calls .js application/javascript unless the machine's /etc/mime.types says better.
    mimetypes.add_type("text/javascript", ".js")
    app.include_router(router)
    app.mount("/console", StaticFiles(directory=CONSOLE_DIR), name="console")
