"""Forms: an HTML form to try a browser's form submission against /post."""

from __future__ import annotations

from html import escape

from flask import Response
from werkzeug.wrappers import Request

# httpbin's field names (custname, custtel, custemail, size, topping,
# delivery, comments) so that clients scripted against its form still work.
FORM_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>mockbin: order a pizza (a form that posts to /post)</title>
</head>
<body>
  <h1>Order a pizza</h1>
  <p>Nothing gets delivered: submitting this form sends it to <code>/post</code>,
  which answers with what your browser sent.</p>
  <form action="{action}" method="post" accept-charset="utf-8">
    <p><label>Your name <input name="custname" required></label></p>
    <p><label>Phone <input type="tel" name="custtel"></label></p>
    <p><label>E-mail <input type="email" name="custemail"></label></p>
    <fieldset>
      <legend>Size</legend>
      <label><input type="radio" name="size" value="small"> Small (25 cm)</label>
      <label><input type="radio" name="size" value="medium"> Medium (30 cm)</label>
      <label><input type="radio" name="size" value="large"> Large (36 cm)</label>
    </fieldset>
    <fieldset>
      <legend>Toppings</legend>
      <label><input type="checkbox" name="topping" value="bacon"> Bacon</label>
      <label><input type="checkbox" name="topping" value="cheese"> Extra cheese</label>
      <label><input type="checkbox" name="topping" value="onion"> Onion</label>
      <label><input type="checkbox" name="topping" value="mushroom"> Mushroom</label>
    </fieldset>
    <p><label>Deliver at <input type="time" name="delivery" min="11:00" max="23:00" step="900"></label></p>
    <p><label>Notes for the kitchen <textarea name="comments" rows="3" cols="40"></textarea></label></p>
    <p><button type="submit">Send the order</button></p>
  </form>
</body>
</html>"""


def forms_post(request: Request) -> Response:
    """An HTML order form whose submission goes to /post."""
    action = escape(request.script_root + "/post")
    return Response(FORM_PAGE.format(action=action), content_type="text/html; charset=utf-8")
