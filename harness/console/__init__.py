"""The technical service's console (``recette console serve``): every site's runs, firewall
verification and international-option state in one web application, on the gate's database.

Flask with server-side Jinja pages, CSRF tokens from Flask-WTF, argon2 password hashes and
signed-cookie sessions: an instance keeps nothing of its own, so several can serve one
PostgreSQL store. One module per job: :mod:`.app` (factory), :mod:`.auth`, :mod:`.sites`,
:mod:`.site`, :mod:`.users`, :mod:`.files` (downloads and the upload API), :mod:`.upload`
(the client side of ``recette upload``), :mod:`.store`, :mod:`.labels` (French and English).
"""
