"""Front desk: the receptionists' today board, walk-in/phone bookings, order actions, gift cards at the desk."""
