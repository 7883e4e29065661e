"""The example web service: a FastAPI app served by uvicorn.

Configured by the environment, as a container expects: ``PORT`` (default 8000) and
``HOST`` (default 0.0.0.0, so that a published container port reaches it).
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from greeting import greet

SERVICE_NAME = "web"

app = FastAPI(title="lamina example web service")


class Health(BaseModel):
    """What /health answers: enough for a probe and for a human checking the deployment."""

    status: str
    service: str


class GreetingResponse(BaseModel):
    """The greeting made by the shared library for one name."""

    name: str
    message: str


@app.get("/health")
def health() -> Health:
    """Liveness probe."""
    return Health(status="ok", service=SERVICE_NAME)


@app.get("/greet/{name}")
def greet_name(name: str, shout: bool = False) -> GreetingResponse:
    """Greet ``name``; ``?shout=true`` greets in capitals; a blank name is a 422."""
    try:
        message = greet(name, shout=shout)
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    return GreetingResponse(name=name, message=message)


def main() -> None:
    """Serve the app on $HOST:$PORT until interrupted."""
    uvicorn.run(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8000")),
    )


if __name__ == "__main__":
    main()
